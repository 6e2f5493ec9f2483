//! A customer's own team (`TeamManagers`, `TeamMembers`); invitations are
//! `PasswordResetTokens` links.

use super::*;

/// A team place read from `at`: is-manager, then the manager's id, email and ERP name
/// (null when the account is nobody's colleague).
fn team_place(r: &Row<'_>, at: usize) -> rusqlite::Result<TeamPlace> {
    let managed_by = match r.get::<_, Option<i64>>(at + 1)? {
        Some(lead) => Some(TeamLead {
            id: CustomerId(lead),
            email: r.get(at + 2)?,
            erp_customer_name: r.get(at + 3)?,
        }),
        None => None,
    };
    Ok(TeamPlace {
        manager: r.get(at)?,
        managed_by,
    })
}

/// A row of `SESSION_IN_TEAM`.
pub(super) fn session_in_team_row(
    r: &Row<'_>,
    zone: &Zone,
) -> rusqlite::Result<(ActiveSession, Customer, TeamPlace)> {
    Ok((
        sessions::active_session(r)?,
        customer_from_row(r, 6, zone)?,
        team_place(r, 16)?,
    ))
}

/// Stores a new link for the colleague, earlier unused ones used up, inside `tx`.
fn issue_link(
    tx: &rusqlite::Transaction<'_>,
    colleague: CustomerId,
    token_hash: &str,
    expiry: OffsetDateTime,
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    tx.execute_cached(sql::DELETE_EXPIRED_RESET_TOKENS, [ts(now)])?;
    tx.execute_cached(sql::USE_UP_RESET_TOKENS, [colleague.0])?;
    tx.execute_cached(
        sql::INSERT_RESET_TOKEN,
        params![colleague.0, token_hash, ts(expiry)],
    )?;
    Ok(())
}

#[async_trait]
impl TeamStore for SqliteStore {
    async fn team_place(&self, id: CustomerId) -> StoreResult<TeamPlace> {
        self.with_conn("team_place", move |c| {
            c.query_row_cached(sql::TEAM_PLACE, [id.0], |r| team_place(r, 0))
                .map_err(backend)
        })
        .await
    }

    async fn session_in_team(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer, TeamPlace)>> {
        let sid = session_id.to_owned();
        self.with_conn("session_in_team", move |c| {
            let zone = c.zone.clone();
            c.query_row_cached(sql::SESSION_IN_TEAM, [sid], |r| {
                session_in_team_row(r, &zone)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn set_team_manager(
        &self,
        id: CustomerId,
        on: bool,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let (by, audit) = (by.to_owned(), audit.clone());
        self.with_conn("set_team_manager", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                if on {
                    tx.execute_cached(
                        sql::INSERT_TEAM_MANAGER,
                        params![id.0, fits::TEAM_MADE_BY.cut(&by), ts(at)],
                    )
                } else {
                    let n = tx.execute_cached(sql::DELETE_TEAM_MANAGER, [id.0])?;
                    tx.execute_cached(sql::RELEASE_TEAM, [id.0])?;
                    Ok(n)
                }
            })
            .map(|n| n > 0)
        })
        .await
    }

    async fn invite_colleague(
        &self,
        manager: CustomerId,
        new: &NewCustomer,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<Customer> {
        let (new, hash, audit) = (new.clone(), token_hash.to_owned(), audit.clone());
        self.with_conn("invite_colleague", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let customer = insert_customer_in(&tx, &new, audit, &zone)?;
            tx.execute_cached(
                sql::INSERT_TEAM_MEMBER,
                params![customer.id.0, manager.0, ts(now)],
            )
            .map_err(backend)?;
            issue_link(&tx, customer.id, &hash, expiry, now).map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(customer)
        })
        .await
    }

    async fn reissue_invitation(
        &self,
        colleague: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let (hash, audit) = (token_hash.to_owned(), audit.clone());
        self.with_conn("reissue_invitation", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                issue_link(tx, colleague, &hash, expiry, now).map(|()| 1)
            })
            .map(|_| ())
        })
        .await
    }

    async fn colleagues(&self, manager: CustomerId) -> StoreResult<Vec<Customer>> {
        self.with_conn("colleagues", move |c| {
            let zone = c.zone.clone();
            let mut stmt = c.prepare_cached(sql::COLLEAGUES).map_err(backend)?;
            let rows = stmt
                .query_map([manager.0], |r| customer_from_row(r, 0, &zone))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn team_links(&self) -> StoreResult<TeamLinks> {
        self.with_conn("team_links", move |c| {
            let managers = c
                .prepare_cached(sql::TEAM_MANAGERS)
                .and_then(|mut s| {
                    s.query_map([], |r| Ok(CustomerId(r.get(0)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            let members = c
                .prepare_cached(sql::TEAM_MEMBERS)
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((CustomerId(r.get(0)?), CustomerId(r.get(1)?))))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            Ok(TeamLinks { managers, members })
        })
        .await
    }
}
