//! A customer's own team. For the team manager (a signed-in customer staff made the
//! manager of its scope): `myTeam`, `inviteColleague`, `setColleagueScope`,
//! `setColleagueActive`, `resendInvitation`; a colleague, or any other account, is
//! `NOT_FOUND` to a manager whose colleague it is not, and a scope wider than the manager's
//! own is a field error on `erpCustomerNames`. For the invited colleague (signed out):
//! `acceptInvitation`. For staff: `setTeamManager` and `teams` (who manages whom).

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::account::ResetPasswordInput;
use super::admin::{CustomerLoader, customer_error, parse_id};
use super::customer::CustomerNode;
use super::guards::{
    AdminGuard, PublicGuard, coded_error, codes, require_admin, require_team_manager,
};
use crate::auth::ClientInfo;
use crate::auth::reset::PasswordResets;
use crate::customers::{Colleague, ColleagueInput, CustomerAdmin, CustomerError, InviteOutcome};
use crate::domain::CustomerId;
use crate::domain::audit::Action;

#[derive(Default)]
pub struct TeamQuery;

#[derive(Default)]
pub struct TeamMutation;

/// A colleague as their team manager sees them.
#[derive(SimpleObject)]
pub struct TeamColleague {
    pub id: ID,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    /// All or part of the manager's own ERP customers.
    pub erp_customer_names: Vec<String>,
    pub is_active: bool,
    /// The invitation was not accepted yet.
    pub invitation_pending: bool,
    pub last_login_date: Option<OffsetDateTime>,
}

impl From<Colleague> for TeamColleague {
    fn from(c: Colleague) -> Self {
        let node = CustomerNode::from(c.customer);
        TeamColleague {
            id: node.id,
            first_name: node.first_name,
            last_name: node.last_name,
            email: node.email,
            erp_customer_names: node.erp_customer_names,
            is_active: node.is_active,
            invitation_pending: c.invitation_pending,
            last_login_date: node.last_login_date,
        }
    }
}

/// An invitation mailed (or not: `emailSent` false, then "Send again" retries).
#[derive(SimpleObject)]
pub struct InvitationPayload {
    pub colleague: TeamColleague,
    pub email_sent: bool,
}

impl From<InviteOutcome> for InvitationPayload {
    fn from(o: InviteOutcome) -> Self {
        InvitationPayload {
            colleague: o.colleague.into(),
            email_sent: o.email_sent,
        }
    }
}

#[derive(InputObject)]
pub struct InviteColleagueInput {
    pub first_name: String,
    #[graphql(default)]
    pub last_name: String,
    pub email: String,
    /// `["All"]` (only if the manager sees all) or ERP customer names the manager sees.
    pub erp_customer_names: Vec<String>,
}

/// An account in a team, for staff: a manager (`isManager`), or a colleague and who
/// manages them. One flat list, so it is counted as one list.
#[derive(SimpleObject)]
pub struct TeamMember {
    pub account: CustomerNode,
    pub is_manager: bool,
    /// The colleague's manager (null for a manager).
    pub managed_by: Option<CustomerNode>,
}

/// As the account fields answer, but "not found" means not one of the caller's colleagues.
fn team_error(e: CustomerError) -> async_graphql::Error {
    match e {
        CustomerError::NotFound => coded_error(codes::NOT_FOUND, "no such colleague in your team"),
        e => customer_error(e),
    }
}

/// Lists of names are bounded before anything reads them.
fn names(list: Vec<String>) -> Vec<String> {
    list.into_iter()
        .take(200)
        .map(|n| n.chars().take(200).collect())
        .collect()
}

#[Object]
impl TeamQuery {
    /// The caller's colleagues, when the caller is a team manager (`FORBIDDEN`
    /// otherwise).
    async fn my_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamColleague>> {
        let grant = require_team_manager(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .colleagues(&grant)
            .await
            .map(|list| list.into_iter().map(Into::into).collect())
            .map_err(team_error)
    }

    /// The ERP customers the team manager may give a colleague: their own (every ERP
    /// customer when they see all).
    async fn assignable_erp_customer_names(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<String>> {
        let grant = require_team_manager(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .assignable_names(&grant)
            .await
            .map_err(team_error)
    }

    /// Who manages whom (admin sessions): every team manager, then every colleague with
    /// their manager.
    #[graphql(guard = "AdminGuard")]
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamMember>> {
        let grant = require_admin(ctx)?;
        let links = ctx
            .data::<Arc<CustomerAdmin>>()?
            .team_links(&grant)
            .await
            .map_err(team_error)?;
        let mut ids: Vec<CustomerId> = links.managers.clone();
        ids.extend(links.members.iter().map(|(c, _)| *c));
        let loader = ctx.data::<DataLoader<CustomerLoader>>()?;
        let accounts = loader.load_many(ids).await?;
        let node = |id: &CustomerId| accounts.get(id).cloned();
        let managers = links.managers.iter().filter_map(|m| {
            Some(TeamMember {
                account: node(m)?,
                is_manager: true,
                managed_by: None,
            })
        });
        let colleagues = links.members.iter().filter_map(|(c, m)| {
            Some(TeamMember {
                account: node(c)?,
                is_manager: false,
                managed_by: node(m),
            })
        });
        Ok(managers.chain(colleagues).collect())
    }
}

#[Object]
impl TeamMutation {
    /// Invites a colleague by email: a new account with all or part of the manager's own
    /// scope, opened by a mailed single-use link that works for 72 hours. Audited
    /// (`TEAM_INVITE`, the manager as the actor).
    async fn invite_colleague(
        &self,
        ctx: &Context<'_>,
        input: InviteColleagueInput,
    ) -> async_graphql::Result<InvitationPayload> {
        let grant = require_team_manager(ctx)?;
        let input = ColleagueInput {
            first_name: input.first_name.chars().take(200).collect(),
            last_name: input.last_name.chars().take(200).collect(),
            email: input.email.chars().take(320).collect(),
            erp_customer_names: names(input.erp_customer_names),
        };
        ctx.data::<Arc<CustomerAdmin>>()?
            .invite_colleague(&grant, &input)
            .await
            .map(Into::into)
            .map_err(team_error)
    }

    /// Mails a colleague who has not accepted yet a new link (earlier ones stop working).
    async fn resend_invitation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<InvitationPayload> {
        let grant = require_team_manager(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .resend_invitation(&grant, parse_id(&id)?)
            .await
            .map(Into::into)
            .map_err(team_error)
    }

    /// Gives a colleague all or part of the manager's own ERP customers; never wider
    /// (a field error on `erpCustomerNames`). Audited (`TEAM_SCOPE_CHANGE`).
    async fn set_colleague_scope(
        &self,
        ctx: &Context<'_>,
        id: ID,
        erp_customer_names: Vec<String>,
    ) -> async_graphql::Result<TeamColleague> {
        let grant = require_team_manager(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .set_colleague_scope(&grant, parse_id(&id)?, &names(erp_customer_names))
            .await
            .map(Into::into)
            .map_err(team_error)
    }

    /// Deactivates (their sessions end at once) or reactivates a colleague. Audited.
    async fn set_colleague_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> async_graphql::Result<TeamColleague> {
        let grant = require_team_manager(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .set_colleague_active(&grant, parse_id(&id)?, active)
            .await
            .map(Into::into)
            .map_err(team_error)
    }

    /// Makes an account the team manager of its own ERP scope (`manager: true`) or stops
    /// it (its colleagues keep their accounts and scopes, managed by nobody). Admin
    /// sessions; audited (`TEAM_MANAGER_ON`, `TEAM_MANAGER_OFF`).
    #[graphql(guard = "AdminGuard")]
    async fn set_team_manager(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        manager: bool,
    ) -> async_graphql::Result<CustomerNode> {
        let grant = require_admin(ctx)?;
        ctx.data::<Arc<CustomerAdmin>>()?
            .set_team_manager(&grant, parse_id(&customer_id)?, manager)
            .await
            .map(Into::into)
            .map_err(customer_error)
    }

    /// Sets the invited colleague's password through their mailed link (12–128
    /// characters): the link is used up and the account opens. Field errors as
    /// `BAD_USER_INPUT` (`token` for a used, replaced or expired link). Audited
    /// (`TEAM_INVITE_ACCEPT`).
    #[graphql(guard = "PublicGuard")]
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<bool> {
        let resets = ctx.data::<Arc<PasswordResets>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let result = resets
            .complete_as(
                &input.token,
                &input.new_password,
                &input.confirm_password,
                &client,
                Action::TeamInviteAccept,
            )
            .await;
        super::account::link_answer(result)
    }
}
