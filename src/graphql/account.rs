//! The customer's own account: `changePassword` (signed in; open to a customer on a
//! temporary password too, as it is the one thing they may do; the current session stays
//! signed in and every other session ends), and the self-service reset by mailed link
//! (`requestPasswordReset`, `passwordResetLinkValid`, `resetPassword`: for browsers at the
//! sign-in pages, signed in or not). And "your sessions": `mySessions`, `signOutSession`,
//! `signOutOtherSessions` (a signed-in customer's own browsers only).

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{
    PublicGuard, coded_error, codes, field_errors, rate_limited, require_customer,
    require_signed_in_customer, store_error,
};
use crate::auth::ClientInfo;
use crate::auth::reset::{PasswordResets, RequestError, ResetError};
use crate::auth::service::{AuthService, PasswordChangeError, public_session_id};

#[derive(Default)]
pub struct AccountMutation;

#[derive(Default)]
pub struct AccountQuery;

#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The secret from the mailed link.
    pub token: String,
    pub new_password: String,
    pub confirm_password: String,
}

/// One of the signed-in customer's own browsers (`mySessions`).
#[derive(SimpleObject)]
pub struct AccountSession {
    /// Names the session for `signOutSession`; not the session's secret id.
    pub id: ID,
    /// The browser and its system in a few words ("Chrome 131 on Windows").
    pub device: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub signed_in_at: OffsetDateTime,
    /// Updated at most once a minute.
    pub last_seen: OffsetDateTime,
    /// The browser asking.
    pub current: bool,
}

#[Object]
impl AccountQuery {
    /// The signed-in customer's own browsers, most recently seen first (the current one
    /// marked `current`).
    async fn my_sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AccountSession>> {
        let who = require_customer(ctx)?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let sessions = auth.own_sessions(who).await.map_err(|e| store_error(&e))?;
        Ok(sessions
            .into_iter()
            .map(|s| AccountSession {
                id: ID(public_session_id(&s.session_id)),
                device: crate::domain::describe_browser(s.user_agent.as_deref()),
                current: s.session_id == who.session_id,
                user_agent: s.user_agent,
                ip_address: s.ip_address,
                signed_in_at: s.created_at,
                last_seen: s.last_seen,
            })
            .collect())
    }

    /// Whether a mailed reset link can still be used (unused, not replaced by a newer one,
    /// under 30 minutes old, its account active).
    #[graphql(guard = "PublicGuard")]
    async fn password_reset_link_valid(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> async_graphql::Result<bool> {
        let resets = ctx.data::<Arc<PasswordResets>>()?;
        resets
            .link_is_valid(&token)
            .await
            .map_err(|e| store_error(&e))
    }
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// Required unless the account is on a temporary password.
    pub current_password: Option<String>,
    pub new_password: String,
    pub confirm_password: String,
}

#[Object]
impl AccountMutation {
    /// Sets the caller's own password (12–128 characters). Field errors come back as
    /// `BAD_USER_INPUT` with `extensions.fields`.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<bool> {
        let who = require_signed_in_customer(ctx)?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let current =
            (!who.must_reset_password).then_some(input.current_password.as_deref().unwrap_or(""));
        match auth
            .change_password(
                who,
                current,
                &input.new_password,
                &input.confirm_password,
                &client,
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(PasswordChangeError::Throttled(wait)) => Err(rate_limited(
                PasswordChangeError::Throttled(wait).message(),
                wait,
            )),
            Err(PasswordChangeError::SessionEnded) => Err(coded_error(
                codes::UNAUTHENTICATED,
                PasswordChangeError::SessionEnded.message(),
            )),
            Err(e) => {
                let field = match e {
                    PasswordChangeError::CurrentPasswordWrong => "current_password",
                    PasswordChangeError::Policy(_) | PasswordChangeError::SameAsCurrent => {
                        "new_password"
                    }
                    _ => "_form",
                };
                Err(field_errors([(field, e.message().to_owned())]))
            }
        }
    }

    /// Signs out one of the caller's other browsers (an `id` from `mySessions`): it is
    /// signed out on its next request. `NOT_FOUND` when the caller has no such other
    /// session (already ended, the current one, or not theirs). Audited.
    async fn sign_out_session(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let who = require_customer(ctx)?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let id: String = id.0.chars().take(64).collect();
        match auth.end_own_session(who, &id, &client).await {
            Ok(true) => Ok(true),
            Ok(false) => Err(coded_error(
                codes::NOT_FOUND,
                "no such session of yours: it may have ended already (sign out this browser with \"Sign out\")",
            )),
            Err(e) => Err(store_error(&e)),
        }
    }

    /// Signs out every browser of the caller but this one; how many were signed out.
    /// Audited when there were any.
    async fn sign_out_other_sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let who = require_customer(ctx)?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let n = auth
            .end_other_own_sessions(who, &client)
            .await
            .map_err(|e| store_error(&e))?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Mails a single-use link to choose a new password, valid 30 minutes, if an active
    /// account has this email. The answer is `true` whether or not one does (and comes in
    /// the same time); `RATE_LIMITED` (with `extensions.retryAfter` in seconds) when this
    /// address asked too often.
    #[graphql(guard = "PublicGuard")]
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> async_graphql::Result<bool> {
        let resets = ctx.data::<Arc<PasswordResets>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let email: String = email.chars().take(320).collect();
        match resets.request(&email, &client).await {
            Ok(()) => Ok(true),
            Err(RequestError::Throttled(wait)) => Err(rate_limited(
                "too many reset requests from this address; try again later",
                wait,
            )),
            Err(RequestError::Unavailable) => Err(coded_error(
                codes::APP_DB_UNAVAILABLE,
                "the portal database is temporarily unavailable; nothing was sent",
            )),
        }
    }

    /// Sets a new password (12–128 characters) through a mailed link: the link is used up,
    /// every session of the account ends, the temporary-password flag clears. Field errors
    /// as `BAD_USER_INPUT` (`token` for a used, replaced or expired link).
    #[graphql(guard = "PublicGuard")]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<bool> {
        let resets = ctx.data::<Arc<PasswordResets>>()?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let result = resets
            .complete(
                &input.token,
                &input.new_password,
                &input.confirm_password,
                &client,
            )
            .await;
        link_answer(result)
    }
}

/// What a password set through a mailed link (a reset, or a team invitation) answers:
/// `true`, or the field errors (`token` for a used, replaced or expired link).
pub(super) fn link_answer(result: Result<(), ResetError>) -> async_graphql::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(ResetError::Unavailable) => Err(coded_error(
            codes::APP_DB_UNAVAILABLE,
            "the portal database is temporarily unavailable; nothing was changed",
        )),
        Err(e) => {
            let field = match e {
                ResetError::InvalidLink => "token",
                _ => "new_password",
            };
            Err(field_errors([(field, e.message().to_owned())]))
        }
    }
}
