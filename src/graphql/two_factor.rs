//! Two-step sign-in for the signed-in person's own account (a customer's, or a staff
//! member's in an admin session): where it stands
//! (`twoFactorStatus`, `pendingTwoFactor`), enrolling an authenticator app
//! (`beginTwoFactor`, `confirmTwoFactor`, which answers the recovery codes once) and
//! turning it off with a current code (`turnOffTwoFactor`). Browsers only: a token is no
//! person's account, and answers `FORBIDDEN`.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

use super::guards::{
    coded_error, codes, field_errors, rate_limited, require_enroller, store_error,
};
use crate::auth::ClientInfo;
use crate::auth::two_factor::{Enrolment, TwoFactor, TwoFactorError};

#[derive(Default)]
pub struct TwoFactorQuery;

#[derive(Default)]
pub struct TwoFactorMutation;

/// Where the caller's two-step sign-in stands.
#[derive(SimpleObject)]
pub struct TwoFactorStatus {
    /// Signing in asks for the app's code after the password.
    pub on: bool,
    /// An app was being enrolled and the enrolment was not confirmed yet.
    pub pending: bool,
    pub recovery_codes_left: i32,
}

/// What an authenticator app needs to enrol.
#[derive(SimpleObject)]
pub struct TwoFactorEnrolment {
    /// The secret in base32 (groups of four), for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/…` link the QR code holds.
    pub otpauth_uri: String,
    /// The QR code's side in modules (without margin).
    pub qr_size: i32,
    /// An SVG path drawing the dark modules, with a four-module margin
    /// (`viewBox="0 0 qrSize+8 qrSize+8"`).
    pub qr_path: String,
}

impl From<Enrolment> for TwoFactorEnrolment {
    fn from(e: Enrolment) -> Self {
        TwoFactorEnrolment {
            secret: e.secret,
            otpauth_uri: e.uri,
            qr_size: e.qr.size as i32,
            qr_path: e.qr.svg_path(4),
        }
    }
}

fn refusal(e: TwoFactorError) -> async_graphql::Error {
    match e {
        TwoFactorError::Throttled(wait) => rate_limited(e.message(), wait),
        TwoFactorError::Unavailable => coded_error(
            codes::APP_DB_UNAVAILABLE,
            "the portal database is temporarily unavailable; nothing was changed",
        ),
        e => field_errors([("code", e.message().to_owned())]),
    }
}

#[Object]
impl TwoFactorQuery {
    /// Whether signing in to the caller's account asks for an app's code.
    async fn two_factor_status(&self, ctx: &Context<'_>) -> async_graphql::Result<TwoFactorStatus> {
        let who = require_enroller(ctx)?;
        let status = ctx
            .data::<Arc<TwoFactor>>()?
            .status(&who.account())
            .await
            .map_err(|e| store_error(&e))?;
        Ok(TwoFactorStatus {
            on: status.on,
            pending: status.pending,
            recovery_codes_left: status.recovery_codes_left as i32,
        })
    }

    /// The enrolment begun and not confirmed yet (to show its QR code again), if any.
    async fn pending_two_factor(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<TwoFactorEnrolment>> {
        let who = require_enroller(ctx)?;
        ctx.data::<Arc<TwoFactor>>()?
            .pending(&who.account(), who.label())
            .await
            .map(|e| e.map(TwoFactorEnrolment::from))
            .map_err(refusal)
    }
}

#[Object]
impl TwoFactorMutation {
    /// Begins enrolling an authenticator app (again, with a new secret, if one was begun):
    /// scan the QR code, then confirm with the app's first code. A `code` field error when
    /// two-step sign-in is already on.
    async fn begin_two_factor(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<TwoFactorEnrolment> {
        let who = require_enroller(ctx)?;
        ctx.data::<Arc<TwoFactor>>()?
            .begin(&who.account(), who.label())
            .await
            .map(TwoFactorEnrolment::from)
            .map_err(refusal)
    }

    /// Turns two-step sign-in on with the enrolled app's current code; answers the ten
    /// recovery codes, shown this once (each works once, instead of a code). Throttled
    /// like a password (`RATE_LIMITED` with `retryAfter`). Audited.
    async fn confirm_two_factor(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Vec<String>> {
        let who = require_enroller(ctx)?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let code: String = code.chars().take(64).collect();
        ctx.data::<Arc<TwoFactor>>()?
            .confirm(&who.account(), &code, who.audit(), &client)
            .await
            .map_err(refusal)
    }

    /// Every browser trusted so far ("trust this browser for 30 days") must give a code at
    /// its next sign-in. A `code` field error when two-step sign-in is off. Audited.
    async fn forget_trusted_browsers(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let who = require_enroller(ctx)?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        ctx.data::<Arc<TwoFactor>>()?
            .forget_browsers(&who.account(), who.audit(), &client)
            .await
            .map(|()| true)
            .map_err(refusal)
    }

    /// Turns two-step sign-in off with a current code (or a recovery code). Audited.
    async fn turn_off_two_factor(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<bool> {
        let who = require_enroller(ctx)?;
        let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
        let code: String = code.chars().take(64).collect();
        ctx.data::<Arc<TwoFactor>>()?
            .turn_off(&who.account(), &code, who.audit(), &client)
            .await
            .map(|()| true)
            .map_err(refusal)
    }
}
