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
            tx.execute(
                "DELETE FROM PasswordResetTokens WHERE expiry_date <= ?1",
                [ts(now)],
            )
            .map_err(backend)?;
            tx.execute(
                "UPDATE PasswordResetTokens SET is_used = 1 WHERE customer_id = ?1 AND is_used = 0",
                [customer.0],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) VALUES (?1, ?2, ?3, 0)",
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
            c.query_row(
                &format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM PasswordResetTokens t
                     JOIN Customers c ON c.customer_id = t.customer_id
                     WHERE t.token_hash = ?1 AND t.is_used = 0 AND t.expiry_date > ?2 AND c.is_active = 1"
                ),
                params![hash, ts(now)],
                |r| customer_from_row(r, 0, &zone),
            )
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
                .execute(
                    "UPDATE PasswordResetTokens SET is_used = 1
                     WHERE token_hash = ?1 AND customer_id = ?2 AND is_used = 0 AND expiry_date > ?3
                       AND EXISTS (SELECT 1 FROM Customers c WHERE c.customer_id = ?2 AND c.is_active = 1)",
                    params![hash, customer.0, ts(now)],
                )
                .map_err(backend)?;
            if used == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE Customers SET password_hash = ?1, must_reset_password = 0 WHERE customer_id = ?2",
                params![password_hash, customer.0],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM ActiveSessions WHERE customer_id = ?1",
                [customer.0],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }
}
