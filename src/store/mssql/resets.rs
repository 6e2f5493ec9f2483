//! Self-service password reset links (`PasswordResetTokens`, the old portal's table).

use super::*;

#[async_trait]
impl ResetTokenStore for MssqlStore {
    async fn issue_reset_token(
        &self,
        customer: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        self.exec(
            "issue_reset_token",
            sql::ISSUE_RESET_TOKEN,
            &[
                P::Int(Some(customer.0)),
                t(token_hash),
                P::Time(utc(expiry)),
                P::Time(utc(now)),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn reset_token_customer(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Customer>> {
        let zone = self.zone.clone();
        self.one(
            "reset_token_customer",
            sql::RESET_TOKEN_CUSTOMER,
            &[t(token_hash), P::Time(utc(now))],
            |r| customer(r, 0, &zone),
        )
        .await
    }

    async fn use_reset_token(
        &self,
        token_hash: &str,
        customer_id: CustomerId,
        now: OffsetDateTime,
        password_hash: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let mut params = vec![
            t(token_hash),
            P::Int(Some(customer_id.0)),
            P::Time(utc(now)),
            t(password_hash),
        ];
        params.extend(audit_params(audit, &self.zone));
        let n = self
            .one("use_reset_token", sql::USE_RESET_TOKEN, &params, |r| {
                Ok(r.get::<i32, _>(0).unwrap_or(0))
            })
            .await?
            .unwrap_or(0);
        Ok(n > 0)
    }
}
