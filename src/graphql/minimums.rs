//! Low-stock thresholds: `partMinimums`, `setPartMinimum`, `removePartMinimum`. A minimum
//! belongs to an ERP customer and a part, so every account that sees that customer sees
//! and edits the same one; an account reads and writes only the customers of its own
//! scope (the rule in `guards`).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{
    CustomerGuard, coded_error, codes, field_errors, require_customer, require_inventory,
    store_error,
};
use crate::domain::ErpScope;
use crate::inventory::{InventoryService, Minimums, Snapshot};
use crate::store::fits;
use crate::store::{PartMinimum, PartMinimumStore};

/// The most a minimum may be (far above any real stock; keeps the numbers sane).
const MAX_MINIMUM: f64 = 1e12;
/// Longest part number accepted (the column's size).
const MAX_PART_CHARS: usize = fits::MINIMUM_PART.chars;

#[derive(Default)]
pub struct MinimumsQuery;

#[derive(Default)]
pub struct MinimumsMutation;

/// A part's minimum and how the scope stands against it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "PartMinimum")]
pub struct PartMinimumNode {
    pub erp_customer_name: String,
    pub part: String,
    /// From the current inventory; empty when the part has no stock or the ERP is down.
    pub description: String,
    pub minimum_qty: f64,
    /// The part's total on hand across the scope's lots and bins; null when the ERP did
    /// not answer.
    pub on_hand_total: Option<f64>,
    pub below_minimum: bool,
    pub updated_at: OffsetDateTime,
    /// The email of the account that set it.
    pub updated_by: String,
}

#[derive(InputObject, Debug, Clone)]
pub struct SetPartMinimumInput {
    /// Required when the account sees more than one ERP customer.
    pub erp_customer_name: Option<String>,
    pub part: String,
    pub minimum_qty: f64,
}

/// The minimums in force for a scope, as the inventory filters and badges use them.
pub async fn minimums_for(
    store: &dyn PartMinimumStore,
    scope: &ErpScope,
) -> Result<Minimums, crate::store::StoreError> {
    let names = scope.names();
    Ok(Minimums::from(store.part_minimums(names.as_deref()).await?))
}

/// The minimums of each scope, kept a few seconds for the inventory grid: every grid
/// refresh shows the badges, and a database read on each would sit in the grid's hot path.
/// This instance's own writes clear it at once; another instance's writes show within
/// [`CACHE_TTL`]. Reports and the minimums page read the database directly.
#[derive(Default)]
pub struct MinimumsCache {
    entries: parking_lot::Mutex<
        std::collections::HashMap<ErpScope, (std::time::Instant, Arc<Minimums>)>,
    >,
}

pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Scopes kept at once (each a small map); beyond it the cache starts over.
const CACHE_SCOPES: usize = 1_024;

impl MinimumsCache {
    pub async fn get(
        &self,
        store: &dyn PartMinimumStore,
        scope: &ErpScope,
    ) -> Result<Arc<Minimums>, crate::store::StoreError> {
        if let Some((at, m)) = self.entries.lock().get(scope)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(m.clone());
        }
        let fresh = Arc::new(minimums_for(store, scope).await?);
        let mut entries = self.entries.lock();
        if entries.len() >= CACHE_SCOPES {
            entries.clear();
        }
        entries.insert(scope.clone(), (std::time::Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

/// Nodes for `list`, with totals from `snapshot` when there is one.
pub fn nodes(list: Vec<PartMinimum>, snapshot: Option<&Snapshot>) -> Vec<PartMinimumNode> {
    list.into_iter()
        .map(|m| {
            let total = snapshot.map(|s| s.part_total(&m.erp_customer_name, &m.part));
            let description = snapshot
                .and_then(|s| s.part_description(&m.erp_customer_name, &m.part))
                .unwrap_or_default()
                .to_owned();
            PartMinimumNode {
                below_minimum: total.is_some_and(|t| t < m.minimum_qty),
                on_hand_total: total,
                description,
                erp_customer_name: m.erp_customer_name,
                part: m.part,
                minimum_qty: m.minimum_qty,
                updated_at: m.updated_at,
                updated_by: m.updated_by,
            }
        })
        .collect()
}

/// The ERP customer a write names: one of the account's own (exactly as the scope spells
/// it), or the only one it has when none is named.
fn customer_in_scope(scope: &ErpScope, named: Option<&str>) -> Result<String, String> {
    let named = named.map(str::trim).filter(|n| !n.is_empty());
    match (scope, named) {
        // A name longer than the table holds cannot have a minimum (said, never cut).
        (_, Some(n)) if !fits::MINIMUM_CUSTOMER.holds(n) => Err(format!(
            "ERP customer names of more than {} characters cannot have minimums.",
            fits::MINIMUM_CUSTOMER.chars
        )),
        (ErpScope::Customers(names), Some(n)) if names.iter().any(|m| m == n) => Ok(n.to_owned()),
        (ErpScope::Customers(names), None) if names.len() == 1 => Ok(names[0].clone()),
        (ErpScope::Customers(_), None) => Err("Choose the ERP customer.".into()),
        (ErpScope::All, Some(n)) => Ok(n.to_owned()),
        (ErpScope::All, None) => Err("Choose the ERP customer.".into()),
        _ => Err("That is not one of your ERP customers.".into()),
    }
}

fn clean_part(part: &str) -> Result<String, String> {
    let p = part.trim();
    if p.is_empty() {
        Err("Enter a part number.".into())
    } else if p.chars().count() > MAX_PART_CHARS {
        Err(format!(
            "A part number has at most {MAX_PART_CHARS} characters."
        ))
    } else {
        Ok(p.to_owned())
    }
}

async fn snapshot_of(
    ctx: &Context<'_>,
) -> async_graphql::Result<Option<Arc<crate::inventory::Snapshot>>> {
    let grant = require_inventory(ctx, None)?;
    let service = ctx.data::<Arc<InventoryService>>()?;
    // Totals are a convenience here: without the ERP the minimums still show.
    Ok(service.current(&grant).await.ok().map(|(s, _)| s))
}

#[Object]
impl MinimumsQuery {
    /// The minimums set for the ERP customers of the caller's scope, by customer and part,
    /// each with the part's total on hand in the scope.
    #[graphql(guard = "CustomerGuard")]
    async fn part_minimums(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PartMinimumNode>> {
        let who = require_customer(ctx)?;
        let store = ctx.data::<Arc<dyn PartMinimumStore>>()?;
        let names = who.scope.names();
        let list = store
            .part_minimums(names.as_deref())
            .await
            .map_err(|e| store_error(&e))?;
        let snapshot = snapshot_of(ctx).await?;
        Ok(nodes(list, snapshot.as_deref()))
    }
}

#[Object]
impl MinimumsMutation {
    /// Sets (or changes) the minimum on hand of a part of one of the caller's ERP
    /// customers. Field errors as `BAD_USER_INPUT`.
    #[graphql(guard = "CustomerGuard")]
    async fn set_part_minimum(
        &self,
        ctx: &Context<'_>,
        input: SetPartMinimumInput,
    ) -> async_graphql::Result<PartMinimumNode> {
        let who = require_customer(ctx)?;
        let mut errors = Vec::new();
        let customer = customer_in_scope(&who.scope, input.erp_customer_name.as_deref())
            .map_err(|e| errors.push(("erp_customer_name", e)))
            .ok();
        let part = clean_part(&input.part)
            .map_err(|e| errors.push(("part", e)))
            .ok();
        let qty = input.minimum_qty;
        if !qty.is_finite() || !(0.0..=MAX_MINIMUM).contains(&qty) {
            errors.push((
                "minimum_qty",
                "Enter a quantity of zero or more.".to_owned(),
            ));
        }
        let (Some(customer), Some(part), true) = (customer, part, errors.is_empty()) else {
            return Err(field_errors(errors));
        };
        let store = ctx.data::<Arc<dyn PartMinimumStore>>()?;
        let m = PartMinimum {
            erp_customer_name: customer,
            part,
            minimum_qty: qty,
            updated_at: OffsetDateTime::now_utc(),
            updated_by: fits::MINIMUM_UPDATED_BY.cut(&who.email),
        };
        store
            .set_part_minimum(&m)
            .await
            .map_err(|e| store_error(&e))?;
        ctx.data::<Arc<MinimumsCache>>()?.clear();
        tracing::info!(customer_id = %who.customer_id, part = %m.part, "part minimum set");
        let snapshot = snapshot_of(ctx).await?;
        Ok(nodes(vec![m], snapshot.as_deref()).remove(0))
    }

    /// Removes a minimum of one of the caller's ERP customers; `NOT_FOUND` when none is set.
    #[graphql(guard = "CustomerGuard")]
    async fn remove_part_minimum(
        &self,
        ctx: &Context<'_>,
        erp_customer_name: Option<String>,
        part: String,
    ) -> async_graphql::Result<bool> {
        let who = require_customer(ctx)?;
        let customer = customer_in_scope(&who.scope, erp_customer_name.as_deref())
            .map_err(|e| field_errors([("erp_customer_name", e)]))?;
        let part = clean_part(&part).map_err(|e| field_errors([("part", e)]))?;
        let store = ctx.data::<Arc<dyn PartMinimumStore>>()?;
        if store
            .remove_part_minimum(&customer, &part)
            .await
            .map_err(|e| store_error(&e))?
        {
            ctx.data::<Arc<MinimumsCache>>()?.clear();
            Ok(true)
        } else {
            Err(coded_error(
                codes::NOT_FOUND,
                "no minimum is set for that part",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_inside_the_scope() {
        let two = ErpScope::parse("Acme Foods|Pure Water");
        assert_eq!(
            customer_in_scope(&two, Some("Acme Foods")).unwrap(),
            "Acme Foods"
        );
        assert!(
            customer_in_scope(&two, Some("acme foods")).is_err(),
            "exact names"
        );
        assert!(customer_in_scope(&two, Some("Other Co")).is_err());
        assert!(customer_in_scope(&two, None).is_err(), "which one?");
        let one = ErpScope::parse("Acme Foods");
        assert_eq!(customer_in_scope(&one, None).unwrap(), "Acme Foods");
        assert!(customer_in_scope(&ErpScope::Nothing, Some("Acme Foods")).is_err());
        assert_eq!(
            customer_in_scope(&ErpScope::All, Some("Other Co")).unwrap(),
            "Other Co"
        );
        assert_eq!(ErpScope::Nothing.names(), Some(Vec::new()));
    }
}
