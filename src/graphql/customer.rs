//! The `Customer` type shared by the viewer and (later) the admin customer resolvers.

use async_graphql::{ID, SimpleObject};
use time::OffsetDateTime;

use crate::store::Customer;

#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Customer")]
pub struct CustomerNode {
    pub id: ID,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    /// The account's ERP scope as a list: `["All"]`, one name, or several.
    pub erp_customer_names: Vec<String>,
    pub is_active: bool,
    pub must_reset_password: bool,
    pub last_login_date: Option<OffsetDateTime>,
    /// When the account was created.
    pub created_date: Option<OffsetDateTime>,
}

impl From<Customer> for CustomerNode {
    fn from(c: Customer) -> Self {
        CustomerNode {
            id: ID(c.id.0.to_string()),
            erp_customer_names: c
                .erp_customer_name
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            is_active: c.is_active,
            must_reset_password: c.must_reset_password,
            last_login_date: c.last_login_date,
            created_date: c.created_date,
        }
    }
}
