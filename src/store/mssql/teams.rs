//! A customer's own team (`TeamManagers`, `TeamMembers`); invitations are
//! `PasswordResetTokens` links.

use super::*;

/// A team place read from `at`: is-manager, then the manager's id, email and ERP name
/// (null when the account is nobody's colleague).
fn team_place(r: &Row, at: usize) -> StoreResult<TeamPlace> {
    let managed_by = match opt_int(r, at + 1)? {
        Some(lead) => Some(TeamLead {
            id: CustomerId(lead),
            email: req_text(r, at + 2)?,
            erp_customer_name: text(r, at + 3)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(TeamPlace {
        manager: bit(r, at)?,
        managed_by,
    })
}

#[async_trait]
impl TeamStore for MssqlStore {
    async fn team_place(&self, id: CustomerId) -> StoreResult<TeamPlace> {
        Ok(self
            .one("team_place", sql::TEAM_PLACE, &[P::Int(Some(id.0))], |r| {
                team_place(r, 0)
            })
            .await?
            .unwrap_or_default())
    }

    async fn session_in_team(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer, TeamPlace)>> {
        self.one(
            "session_in_team",
            sql::SESSION_IN_TEAM,
            &[t(session_id)],
            |r| {
                Ok((
                    active_session(r)?,
                    customer(r, 6, &self.zone)?,
                    team_place(r, 16)?,
                ))
            },
        )
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
        let mut params = vec![P::Int(Some(id.0))];
        let statement = if on {
            params.extend([t(fits::TEAM_MADE_BY.cut(by)), P::Time(utc(at))]);
            sql::MAKE_TEAM_MANAGER
        } else {
            sql::STOP_TEAM_MANAGER
        };
        params.extend(audit_params(audit, &self.zone));
        Ok(self
            .one("set_team_manager", statement, &params, |r| int(r, 0))
            .await?
            .unwrap_or(0)
            > 0)
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
        let mut params = vec![
            t(&new.first_name),
            // The old portal's column is NOT NULL: no last name is ''.
            t(new.last_name.clone().unwrap_or_default()),
            t(new.email.as_str()),
            t(&new.password_hash),
            t(&new.erp_customer_name),
            P::Bit(new.must_reset_password),
            P::Int(Some(manager.0)),
            t(token_hash),
            P::Time(utc(expiry)),
            P::Time(utc(now)),
        ];
        let [ts, admin, action, _, email, details] = audit_params(audit, &self.zone);
        params.extend([ts, admin, action, email, details]);
        let zone = self.zone.clone();
        self.one("invite_colleague", sql::INVITE_COLLEAGUE, &params, |r| {
            customer(r, 0, &zone)
        })
        .await?
        .ok_or_else(|| StoreError::Backend("insert returned no row".into()))
    }

    async fn reissue_invitation(
        &self,
        colleague: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let mut params = vec![
            P::Int(Some(colleague.0)),
            t(token_hash),
            P::Time(utc(expiry)),
            P::Time(utc(now)),
        ];
        params.extend(audit_params(audit, &self.zone));
        self.exec("reissue_invitation", sql::REISSUE_INVITATION, &params)
            .await
            .map(|_| ())
    }

    async fn colleagues(&self, manager: CustomerId) -> StoreResult<Vec<Customer>> {
        let zone = self.zone.clone();
        self.many(
            "colleagues",
            sql::COLLEAGUES,
            &[P::Int(Some(manager.0))],
            |r| customer(r, 0, &zone),
        )
        .await
    }

    async fn team_links(&self) -> StoreResult<TeamLinks> {
        let managers = self
            .many("team_managers", sql::TEAM_MANAGERS, &[], |r| {
                Ok(CustomerId(int(r, 0)?))
            })
            .await?;
        let members = self
            .many("team_members", sql::TEAM_MEMBERS, &[], |r| {
                Ok((CustomerId(int(r, 0)?), CustomerId(int(r, 1)?)))
            })
            .await?;
        Ok(TeamLinks { managers, members })
    }
}
