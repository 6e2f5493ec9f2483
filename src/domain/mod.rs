//! Domain newtypes that parse at the edge: once a value has one of these types it is valid.

pub mod audit;
pub mod clock;
mod display;
mod email;
mod erp_scope;
pub mod forecast;
mod password;
pub mod reports;
mod zone;

pub use display::{describe_browser, format_qty, format_us_date, wall_clock};
pub use email::Email;
pub use erp_scope::ErpScope;
pub use password::{NewPassword, PasswordPolicyError};
pub use zone::Zone;

/// Primary key of `Customers.customer_id`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct CustomerId(pub i64);

impl std::fmt::Display for CustomerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
