//! Self-service password reset links (`PasswordResetTokens`, the old portal's table).

use super::*;

#[async_trait]
impl ResetTokenStore for SqliteStore {
    async fn issue_reset_token(
        &self,
        customer: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let hash = token_hash.to_owned();
        self.with_conn("issue_reset_token", move |c| {
            let tx = c.transaction().map_err(backend)?;
            tx.execute_cached(sql::DELETE_EXPIRED_RESET_TOKENS, [ts(now)])
                .map_err(backend)?;
            tx.execute_cached(sql::USE_UP_RESET_TOKENS, [customer.0])
                .map_err(backend)?;
            tx.execute_cached(
                sql::INSERT_RESET_TOKEN,
                params![customer.0, hash, ts(expiry)],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn reset_token_customer(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Customer>> {
        let hash = token_hash.to_owned();
        self.with_conn("reset_token_customer", move |c| {
            let zone = c.zone.clone();
            c.query_row_cached(sql::RESET_TOKEN_CUSTOMER, params![hash, ts(now)], |r| {
                customer_from_row(r, 0, &zone)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn use_reset_token(
        &self,
        token_hash: &str,
        customer: CustomerId,
        now: OffsetDateTime,
        password_hash: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let hash = token_hash.to_owned();
        let password_hash = password_hash.to_owned();
        let audit = audit.clone();
        self.with_conn("use_reset_token", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let used = tx
                .execute_cached(sql::USE_RESET_TOKEN, params![hash, customer.0, ts(now)])
                .map_err(backend)?;
            if used == 0 {
                return Ok(false);
            }
            tx.execute_cached(
                sql::SET_PASSWORD_FROM_RESET,
                params![password_hash, customer.0],
            )
            .map_err(backend)?;
            tx.execute_cached(sql::END_CUSTOMER_SESSIONS, [customer.0])
                .map_err(backend)?;
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }
}
