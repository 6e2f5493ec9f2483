//! Every GraphQL operation a page or fragment runs, as `.graphql` files beside this one.
//!
//! `graphql_client`'s derive reads each file together with the committed
//! `schema.graphql` at compile time and generates the operation's `Variables` and
//! `ResponseData` types: a field, argument or type that the schema does not have fails
//! the build, and the pages use the generated types instead of hand-copied structs.
//! (Chosen over cynic because operations stay plain `.graphql` text that can be pasted
//! into the explorer, and over async-graphql's own types because those describe the
//! server side, not what one page selected.) [`crate::web::exec::run`] runs them.
//!
//! The scalars below say how the schema's custom scalars arrive in generated types.

use graphql_client::GraphQLQuery;
use serde::{Deserialize, Deserializer, Serialize};

/// `ID`: a string in JSON.
pub type ID = String;

/// `Date` (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub time::Date);

/// As the schema's `Date` reads it (time's own serde form is a tuple, which it refuses).
impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (y, m, d) = (self.0.year(), u8::from(self.0.month()), self.0.day());
        s.serialize_str(&format!("{y:04}-{m:02}-{d:02}"))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::erp::parse_erp_date(&s)
            .map(Date)
            .ok_or_else(|| serde::de::Error::custom(format!("not a date: {s:?}")))
    }
}

/// `DateTime` (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub time::OffsetDateTime);

impl Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
            .map(DateTime)
            .map_err(|e| serde::de::Error::custom(format!("not an RFC 3339 time {s:?}: {e}")))
    }
}

/// Declares the operations of one `.graphql` file, each a type whose `Variables` and
/// `ResponseData` the derive generates from the file and `schema.graphql`.
macro_rules! operations {
    ($file:tt: $($name:ident),+ $(,)?) => {
        $(
            #[derive(GraphQLQuery)]
            #[graphql(
                schema_path = "schema.graphql",
                query_path = $file,
                response_derives = "Debug, Clone",
                variables_derives = "Debug, Clone"
            )]
            pub struct $name;
        )+
    };
}

// The customer's inventory grid.
operations!("src/web/ops/inventory.graphql": InventoryView, InventoryMoreRows, InventoryOptions);

// The customer's own account.
// Forgot password: ask for a link, check it, use it.
operations!("src/web/ops/account.graphql": ChangePassword, RequestPasswordReset, PasswordResetLinkValid, ResetPassword, MySessions, SignOutSession, SignOutOtherSessions, TwoFactorPage, BeginTwoFactor, ConfirmTwoFactor, TurnOffTwoFactor, ForgetTrustedBrowsers);

// Admin: customer accounts.
operations!("src/web/ops/customers.graphql": CustomerList, CustomerForEdit, ErpCustomerNames, CreateCustomer, UpdateCustomer, ResetCustomerPassword, SetCustomerActive, ResetCustomerTwoFactor);

// Admin: everything else.
operations!("src/web/ops/admin.graphql": AuditLog, ActiveSessions, KickSession, Analytics, PanelCounts, Outbox, OutboxMessage);

operations!("src/web/ops/api.graphql": ApiTokenList, CreateApiToken, RevokeApiToken);

// Inventory history: the scope's totals, one part's days, the part's outlook.
operations!("src/web/ops/history.graphql": HistoryTotals, PartHistory, PartOutlook);

// Minimums, saved views, scheduled reports (src/web/ops/tools.graphql).
operations!("src/web/ops/tools.graphql": PartMinimums, SetPartMinimum, RemovePartMinimum, SavedViewsMenu, ViewsAndReports, SaveView, RenameSavedView, DeleteSavedView, SubscribeReport, UnsubscribeReport, SetReportPaused, UnsubscribeByLink, AllReportSubscriptions);

// A customer's own team (src/web/ops/team.graphql).
operations!("src/web/ops/team.graphql": TeamPage, InviteColleague, SetColleagueScope, SetColleagueActive, ResendInvitation, AcceptInvitation, Teams, SetTeamManager);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_variable_is_sent_as_the_schema_reads_it() {
        let d = Date(time::macros::date!(2026 - 03 - 08));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-03-08\"");
        let back: Date = serde_json::from_str("\"2026-03-08\"").unwrap();
        assert_eq!(back, d);
    }
}
