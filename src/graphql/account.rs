//! The signed-in customer's own account: `changePassword`. Open to a customer on a
//! temporary password too (it is the one thing they may do); the current session stays
//! signed in and every other session of the account ends.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object};

use super::guards::{field_errors, require_signed_in_customer};
use crate::auth::service::{AuthService, PasswordChangeError};

#[derive(Default)]
pub struct AccountMutation;

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
        let current =
            (!who.must_reset_password).then_some(input.current_password.as_deref().unwrap_or(""));
        match auth
            .change_password(who, current, &input.new_password, &input.confirm_password)
            .await
        {
            Ok(()) => Ok(true),
            Err(e) => {
                let field = match e {
                    PasswordChangeError::CurrentPasswordWrong => "current_password",
                    PasswordChangeError::Policy(_) | PasswordChangeError::SameAsCurrent => {
                        "new_password"
                    }
                    PasswordChangeError::Unavailable => "_form",
                };
                Err(field_errors([(field, e.message().to_owned())]))
            }
        }
    }
}
