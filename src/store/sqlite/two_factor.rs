//! Two-step sign-in (`TwoFactor`, `TwoFactorRecoveryCodes`).

use super::*;

fn two_factor_from_row(r: &Row<'_>) -> rusqlite::Result<TwoFactorRecord> {
    Ok(TwoFactorRecord {
        account_key: r.get(0)?,
        secret_sealed: r.get(1)?,
        confirmed_at: opt_ts(r, 2)?,
        last_step: r.get(3)?,
        created_at: read_ts(r, 4)?,
        trusted_since: opt_ts(r, 5)?,
    })
}

fn replace_codes(
    tx: &rusqlite::Transaction<'_>,
    account: &str,
    hashes: &[String],
) -> rusqlite::Result<()> {
    tx.execute_cached(sql::DELETE_RECOVERY_CODES, [account])?;
    for h in hashes {
        tx.execute_cached(sql::INSERT_RECOVERY_CODE, params![account, h])?;
    }
    Ok(())
}

#[async_trait]
impl TwoFactorStore for SqliteStore {
    async fn two_factor(&self, account: &str) -> StoreResult<Option<TwoFactorRecord>> {
        let account = account.to_owned();
        self.with_conn("two_factor", move |c| {
            c.query_row_cached(sql::TWO_FACTOR, [account], two_factor_from_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn begin_two_factor(
        &self,
        account: &str,
        secret_sealed: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let (account, sealed) = (account.to_owned(), secret_sealed.to_owned());
        self.with_conn("begin_two_factor", move |c| {
            c.execute_cached(sql::BEGIN_TWO_FACTOR, params![account, sealed, ts(at)])
                .map(|n| n > 0)
                .map_err(backend)
        })
        .await
    }

    async fn confirm_two_factor(
        &self,
        account: &str,
        step: i64,
        code_hashes: &[String],
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let (account, hashes, audit) = (account.to_owned(), code_hashes.to_vec(), audit.clone());
        self.with_conn("confirm_two_factor", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                let n =
                    tx.execute_cached(sql::CONFIRM_TWO_FACTOR, params![ts(at), step, account])?;
                if n > 0 {
                    replace_codes(tx, &account, &hashes)?;
                }
                Ok(n)
            })
            .map(|n| n > 0)
        })
        .await
    }

    async fn use_two_factor_step(&self, account: &str, step: i64) -> StoreResult<bool> {
        let account = account.to_owned();
        self.with_conn("use_two_factor_step", move |c| {
            c.execute_cached(sql::USE_TWO_FACTOR_STEP, params![step, account])
                .map(|n| n > 0)
                .map_err(backend)
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        account: &str,
        code_hash: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let (account, hash, audit) = (account.to_owned(), code_hash.to_owned(), audit.clone());
        self.with_conn("use_recovery_code", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                tx.execute_cached(sql::USE_RECOVERY_CODE, params![ts(at), account, hash])
            })
            .map(|n| n > 0)
        })
        .await
    }

    async fn recovery_codes_left(&self, account: &str) -> StoreResult<u32> {
        let account = account.to_owned();
        self.with_conn("recovery_codes_left", move |c| {
            c.query_row_cached(sql::RECOVERY_CODES_LEFT, [account], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u32)
                .map_err(backend)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        account: &str,
        code_hashes: &[String],
    ) -> StoreResult<()> {
        let (account, hashes) = (account.to_owned(), code_hashes.to_vec());
        self.with_conn("replace_recovery_codes", move |c| {
            let tx = c.transaction().map_err(backend)?;
            replace_codes(&tx, &account, &hashes).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn forget_trusted_browsers(
        &self,
        account: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let (account, audit) = (account.to_owned(), audit.clone());
        self.with_conn("forget_trusted_browsers", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                tx.execute_cached(sql::FORGET_TRUSTED_BROWSERS, params![ts(at), account])
            })
            .map(|n| n > 0)
        })
        .await
    }

    async fn remove_two_factor(&self, account: &str, audit: &NewAuditEntry) -> StoreResult<bool> {
        let (account, audit) = (account.to_owned(), audit.clone());
        self.with_conn("remove_two_factor", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                tx.execute_cached(sql::DELETE_RECOVERY_CODES, [&account])?;
                tx.execute_cached(sql::REMOVE_TWO_FACTOR, [&account])
            })
            .map(|n| n > 0)
        })
        .await
    }
}
