//! Who may call what: the portal's one access rule, in one place.
//!
//! **The rule.** Customer data (inventory rows, facets, ERP names of the account) is
//! shown only to a *customer viewer*: a request whose session row still exists, whose
//! account is active (both re-checked against the app database on every request before
//! a `Viewer` is built), and which is not on a temporary password. That customer sees
//! exactly the ERP scope parsed from their own account (`ErpScope`, never a raw string);
//! no argument can widen it. Admin data (accounts, audit, sessions, analytics, outbox)
//! is shown only to an *admin viewer*: a live admin session. Everybody else is
//! anonymous and gets nothing but `viewer`. An *API token* (an internal tool) is one more
//! kind of viewer: it reaches exactly the fields its scopes name ([`Scope`]) and nothing
//! a customer or an admin session alone may do (accounts' own pages, the outbox, token
//! management); its inventory is bounded by its ERP names under the customers' rule.
//! [`customer_access`], [`admin_access`], [`staff_access`] and [`inventory_grant`] are
//! that rule; the GraphQL guards, the web extractors and the layout all call them.
//! Inventory rows and admin-only services can only be reached through a grant
//! ([`InventoryGrant`], [`AdminGrant`]) that nothing but this module can construct, so a
//! handler physically cannot read rows or act as an admin without the rule having run.

use super::tokens::Scope;
use super::{AdminIdentity, CustomerIdentity, Viewer};
use crate::domain::ErpScope;

/// Why the rule said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Nobody is signed in (or the session just ended).
    Unauthenticated,
    /// A customer on a temporary password: only the password change is open.
    PasswordChangeRequired,
    /// Signed in, but as the other kind of user.
    Forbidden,
    /// A customer or admin whose sign-in requires two-step sign-in (`REQUIRE_2FA`) and who
    /// has not turned it on: only enrolling is open.
    TwoFactorEnrolmentRequired,
}

/// The rule for customer data: a signed-in customer not on a temporary password.
pub fn customer_access(viewer: &Viewer) -> Result<&CustomerIdentity, Denied> {
    match viewer {
        Viewer::Customer(c) if c.must_reset_password => Err(Denied::PasswordChangeRequired),
        Viewer::Customer(c) if c.must_enrol_two_factor => Err(Denied::TwoFactorEnrolmentRequired),
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The rule for a customer's own two-step sign-in: a signed-in customer not on a temporary
/// password, whether or not enrolling is still required of them.
pub fn enrolling_customer(viewer: &Viewer) -> Result<&CustomerIdentity, Denied> {
    match viewer {
        Viewer::Customer(c) if c.must_reset_password => Err(Denied::PasswordChangeRequired),
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// Whose two-step sign-in a request may manage: the signed-in person's own.
#[derive(Debug, Clone, Copy)]
pub enum Enroller<'a> {
    Customer(&'a CustomerIdentity),
    Staff(&'a AdminIdentity),
}

/// The rule for managing one's own two-step sign-in: a signed-in customer not on a
/// temporary password, or an admin session, whether or not enrolling is still required of
/// them. Tokens never (they are no person's account).
pub fn enroller(viewer: &Viewer) -> Result<Enroller<'_>, Denied> {
    match viewer {
        Viewer::Admin(a) => Ok(Enroller::Staff(a)),
        _ => enrolling_customer(viewer).map(Enroller::Customer),
    }
}

/// An admin session, whether or not enrolling in two-step sign-in is still required of it.
pub fn enrolling_admin(viewer: &Viewer) -> Result<&AdminIdentity, Denied> {
    match viewer {
        Viewer::Admin(a) => Ok(a),
        Viewer::Customer(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// A signed-in customer, temporary password or not: only the password change asks this.
pub fn signed_in_customer(viewer: &Viewer) -> Result<&CustomerIdentity, Denied> {
    match viewer {
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The rule for what a person at the sign-in pages may do without signing in (ask for and
/// use a password reset link): a browser, signed out or signed in as a customer. Staff and
/// tokens never (an internal tool has no business mailing customers links).
pub fn public_visitor(viewer: &Viewer) -> Result<(), Denied> {
    match viewer {
        Viewer::Anonymous | Viewer::Customer(_) => Ok(()),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
    }
}

/// The rule for what only a person at the admin pages may do (the outbox, ending a
/// session, managing tokens): a live admin session. Tokens never.
pub fn admin_access(viewer: &Viewer) -> Result<&AdminIdentity, Denied> {
    match viewer {
        Viewer::Admin(a) if a.must_enrol_two_factor => Err(Denied::TwoFactorEnrolmentRequired),
        Viewer::Admin(a) => Ok(a),
        Viewer::Customer(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The rule for admin data a tool may also be given: a live admin session, or a token
/// whose scopes name `scope`. The identity returned is who the audit log names (a
/// token acts as `api:<name>`).
pub fn staff_access(viewer: &Viewer, scope: Scope) -> Result<&AdminIdentity, Denied> {
    match viewer {
        Viewer::Admin(_) => admin_access(viewer),
        Viewer::Token(t) if t.scopes.contains(scope) => Ok(&t.actor),
        Viewer::Customer(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// Who keeps a snapshot of the inventory pinned for their paging cursors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    /// An API token's pull: its pins are never given up for a browser's.
    Tool(i64),
    /// A browser session's grid: a small allowance, given up first.
    Browser(String),
    /// The portal itself (a scheduled report): reads the current rows, pins nothing.
    Portal,
}

/// The right to read one ERP scope's inventory. Only [`inventory_grant`] makes one, and
/// the inventory service reads rows for nothing else.
#[derive(Debug, Clone)]
pub struct InventoryGrant {
    scope: ErpScope,
    holder: Holder,
}

impl InventoryGrant {
    pub fn scope(&self) -> &ErpScope {
        &self.scope
    }

    /// Whose cursors these reads make.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }
}

/// The inventory the rule lets the viewer see, cut down to `narrow` (ERP names; never
/// wider): a customer their account's scope; a token with `inventory:read` its ERP names;
/// an admin session any customer's ("show me what Acme sees").
pub fn inventory_grant(
    viewer: &Viewer,
    narrow: Option<&[String]>,
) -> Result<InventoryGrant, Denied> {
    let (scope, holder) = match viewer {
        Viewer::Token(t) if t.scopes.contains(Scope::InventoryRead) => {
            (&t.erp_scope, Holder::Tool(t.token_id))
        }
        Viewer::Admin(_) => {
            let a = admin_access(viewer)?;
            (&ErpScope::All, Holder::Browser(a.session_id.clone()))
        }
        _ => {
            let c = customer_access(viewer)?;
            (&c.scope, Holder::Browser(c.session_id.clone()))
        }
    };
    Ok(InventoryGrant {
        scope: scope.narrowed(narrow),
        holder,
    })
}

/// The rule for a scheduled report or alert, made when it is sent: the subscriber's own
/// account, active and not on a temporary password (as for a signed-in customer), with
/// the scope parsed from that account as it is now, cut to its team manager's
/// (`manager_scope`, stored form) when it is a colleague. `None`: nothing may be sent.
pub fn report_grant(
    customer: &crate::store::Customer,
    manager_scope: Option<&str>,
) -> Option<InventoryGrant> {
    let own = ErpScope::parse(&customer.erp_customer_name);
    let scope = match manager_scope {
        Some(outer) => own.intersection(&ErpScope::parse(outer)),
        None => own,
    };
    (customer.is_active && !customer.must_reset_password).then_some(InventoryGrant {
        scope,
        holder: Holder::Portal,
    })
}

/// The rule for the daily inventory record: the portal itself reads every ERP customer's
/// rows to sum them (nothing leaves the process but the sums, which each customer then sees
/// only within their own scope). Pins nothing.
pub fn capture_grant() -> InventoryGrant {
    InventoryGrant {
        scope: ErpScope::All,
        holder: Holder::Portal,
    }
}

/// Proof that the rule admitted a team manager: a customer viewer (as for customer data)
/// whose account staff made its scope's team manager. Team services take it, and act
/// only within the manager's own scope.
#[derive(Debug, Clone, Copy)]
pub struct TeamGrant<'a> {
    manager: &'a CustomerIdentity,
}

impl<'a> TeamGrant<'a> {
    pub fn manager(&self) -> &'a CustomerIdentity {
        self.manager
    }

    /// The widest scope the manager may give a colleague: their own.
    pub fn scope(&self) -> &'a ErpScope {
        &self.manager.scope
    }
}

/// The rule for a customer's own team: the signed-in customer manages one. Anyone else
/// (a colleague included) is refused.
pub fn team_grant(viewer: &Viewer) -> Result<TeamGrant<'_>, Denied> {
    let c = customer_access(viewer)?;
    if c.team == super::TeamRole::Manager {
        Ok(TeamGrant { manager: c })
    } else {
        Err(Denied::Forbidden)
    }
}

/// Proof that the rule admitted an admin; admin-only services take it.
#[derive(Debug, Clone, Copy)]
pub struct AdminGrant<'a> {
    admin: &'a AdminIdentity,
}

impl<'a> AdminGrant<'a> {
    pub fn admin(&self) -> &'a AdminIdentity {
        self.admin
    }
}

pub fn admin_grant(viewer: &Viewer) -> Result<AdminGrant<'_>, Denied> {
    admin_access(viewer).map(|admin| AdminGrant { admin })
}

/// An [`AdminGrant`] for an admin session or a token with `scope`.
pub fn staff_grant(viewer: &Viewer, scope: Scope) -> Result<AdminGrant<'_>, Denied> {
    staff_access(viewer, scope).map(|admin| AdminGrant { admin })
}
