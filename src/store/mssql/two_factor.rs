//! Two-step sign-in (`TwoFactor`, `TwoFactorRecoveryCodes`).

use super::*;

fn two_factor(row: &Row) -> StoreResult<TwoFactorRecord> {
    Ok(TwoFactorRecord {
        account_key: req_text(row, 0)?,
        secret_sealed: req_text(row, 1)?,
        confirmed_at: read_utc(row, 2)?,
        last_step: opt_int(row, 3)?,
        created_at: req_utc(row, 4)?,
        trusted_since: read_utc(row, 5)?,
    })
}

#[async_trait]
impl TwoFactorStore for MssqlStore {
    async fn two_factor(&self, account: &str) -> StoreResult<Option<TwoFactorRecord>> {
        self.one("two_factor", sql::TWO_FACTOR, &[t(account)], two_factor)
            .await
    }

    async fn begin_two_factor(
        &self,
        account: &str,
        secret_sealed: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let params = [t(account), t(secret_sealed), P::Time(utc(at))];
        Ok(self
            .one("begin_two_factor", sql::BEGIN_TWO_FACTOR, &params, |r| {
                int(r, 0)
            })
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn confirm_two_factor(
        &self,
        account: &str,
        step: i64,
        code_hashes: &[String],
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let mut params = vec![t(account), P::Time(utc(at)), P::Int(Some(step))];
        params.extend(audit_params(audit, &self.zone));
        params.extend(code_hashes.iter().map(t));
        let statement = sql::confirm_two_factor(code_hashes.len());
        Ok(self
            .one("confirm_two_factor", &statement, &params, |r| int(r, 0))
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn use_two_factor_step(&self, account: &str, step: i64) -> StoreResult<bool> {
        Ok(self
            .exec(
                "use_two_factor_step",
                sql::USE_TWO_FACTOR_STEP,
                &[P::Int(Some(step)), t(account)],
            )
            .await?
            > 0)
    }

    async fn use_recovery_code(
        &self,
        account: &str,
        code_hash: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let mut params = vec![P::Time(utc(at)), t(account), t(code_hash)];
        params.extend(audit_params(audit, &self.zone));
        Ok(self
            .one("use_recovery_code", sql::USE_RECOVERY_CODE, &params, |r| {
                int(r, 0)
            })
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn recovery_codes_left(&self, account: &str) -> StoreResult<u32> {
        Ok(self
            .one(
                "recovery_codes_left",
                sql::RECOVERY_CODES_LEFT,
                &[t(account)],
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0)
            .max(0) as u32)
    }

    async fn replace_recovery_codes(
        &self,
        account: &str,
        code_hashes: &[String],
    ) -> StoreResult<()> {
        let mut params = vec![t(account)];
        params.extend(code_hashes.iter().map(t));
        let statement = sql::replace_recovery_codes(code_hashes.len());
        self.exec("replace_recovery_codes", &statement, &params)
            .await
            .map(|_| ())
    }

    async fn forget_trusted_browsers(
        &self,
        account: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let mut params = vec![t(account), P::Time(utc(at))];
        params.extend(audit_params(audit, &self.zone));
        Ok(self
            .one(
                "forget_trusted_browsers",
                sql::FORGET_TRUSTED_BROWSERS,
                &params,
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn remove_two_factor(&self, account: &str, audit: &NewAuditEntry) -> StoreResult<bool> {
        let mut params = vec![t(account)];
        params.extend(audit_params(audit, &self.zone));
        Ok(self
            .one("remove_two_factor", sql::REMOVE_TWO_FACTOR, &params, |r| {
                int(r, 0)
            })
            .await?
            .unwrap_or(0)
            > 0)
    }
}
