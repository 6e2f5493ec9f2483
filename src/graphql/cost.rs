//! What an operation costs, counted before it runs.
//!
//! The unit is a *row*: one inventory row, audit entry, account or session the answer may
//! hold. A list field counts the page it asks for (`first`, or its default), once per
//! alias, times the rows of any lists inside it; scalar fields are free. Fragments count
//! where they are spread. Every operation costs at least one row. The count is an upper bound the caller chose, so it can
//! be refused before any work is done, and charged against a per-minute budget.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::Variables;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};

/// Most rows one operation may ask for, across all its aliases.
pub const MAX_ROWS_PER_OPERATION: u64 = 20_000;
/// Most fields (aliases included) at the top of one operation.
pub const MAX_ROOT_FIELDS: usize = 20;
/// Rows per page of `inventory`: browsers and admins, and tools with a token.
pub const MAX_PAGE_SESSION: u64 = 500;
pub const MAX_PAGE_TOKEN: u64 = 5_000;
/// The default budget, rows per minute, per token and per browser session.
pub const DEFAULT_ROWS_PER_MINUTE: u64 = 200_000;
/// Fragments spread inside fragments deeper than this are refused (cycles included).
const MAX_FRAGMENT_DEPTH: usize = 16;

/// How a list field is counted: its argument, default and most rows per page.
struct ListField {
    name: &'static str,
    /// `Some(arg)`: the page size argument; `None`: the field returns its whole list.
    page_arg: Option<&'static str>,
    default: u64,
    /// For a page object (a connection), the child that holds the page's items; its
    /// siblings (counts, cursors, facets) are not multiplied by the page.
    items: Option<&'static str>,
}

/// The fields that return many rows. Lists without a `first` (accounts, sessions, names,
/// tokens, the outbox) are counted at the size the portal keeps them to.
const LISTS: &[ListField] = &[
    ListField {
        name: "inventory",
        page_arg: Some("first"),
        default: 100,
        items: Some("rows"),
    },
    ListField {
        name: "auditLog",
        page_arg: Some("first"),
        default: 50,
        items: Some("entries"),
    },
    ListField {
        name: "customerPage",
        page_arg: Some("first"),
        default: 100,
        items: Some("customers"),
    },
    ListField {
        name: "activeSessionPage",
        page_arg: Some("first"),
        default: 100,
        items: Some("sessions"),
    },
    ListField {
        name: "customers",
        page_arg: None,
        default: 1_000,
        items: None,
    },
    ListField {
        name: "activeSessions",
        page_arg: None,
        default: 1_000,
        items: None,
    },
    ListField {
        name: "erpCustomerNames",
        page_arg: None,
        default: 100,
        items: None,
    },
    ListField {
        name: "apiTokens",
        page_arg: None,
        default: 100,
        items: None,
    },
    ListField {
        name: "outbox",
        page_arg: None,
        default: 200,
        items: None,
    },
    // Facets read every row of the scope once: priced like a large page.
    ListField {
        name: "facets",
        page_arg: None,
        default: 1_000,
        items: None,
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    pub rows: u64,
    pub root_fields: usize,
    /// Root field names (not aliases), for the anonymous rule.
    pub roots: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CostError {
    /// Not one operation to run (none, or several and no `operationName`).
    NoOperation,
    TooManyRows(u64),
    TooManyRootFields(usize),
    FragmentsTooDeep,
}

impl CostError {
    pub fn message(&self) -> String {
        match self {
            CostError::NoOperation => "name the operation to run (operationName)".to_owned(),
            CostError::TooManyRows(n) => format!(
                "the operation may return {n} rows; at most {MAX_ROWS_PER_OPERATION} per operation (count `first` across aliases)"
            ),
            CostError::TooManyRootFields(n) => {
                format!("{n} top-level fields; at most {MAX_ROOT_FIELDS} per operation")
            }
            CostError::FragmentsTooDeep => "fragments nested too deeply".to_owned(),
        }
    }
}

fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

struct Counter<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    defaults: HashMap<&'a str, &'a ConstValue>,
    max_page: u64,
}

impl Counter<'_> {
    fn number(&self, v: &Value) -> Option<u64> {
        let c = match v {
            Value::Variable(name) => self
                .variables
                .get(name)
                .or_else(|| self.defaults.get(name.as_str()).copied())?
                .clone(),
            other => other.clone().into_const()?,
        };
        match c {
            ConstValue::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The page a list field asks for, capped at the caller's largest page.
    fn page(&self, list: &ListField, f: &async_graphql::parser::types::Field) -> u64 {
        match list.page_arg {
            Some(arg) => f
                .arguments
                .iter()
                .find(|(n, _)| n.node.as_str() == arg)
                .and_then(|(_, v)| self.number(&v.node))
                .unwrap_or(list.default)
                .min(self.max_page),
            None => list.default,
        }
    }

    fn rows(&self, set: &SelectionSet, depth: usize) -> Result<u64, CostError> {
        if depth > MAX_FRAGMENT_DEPTH {
            return Err(CostError::FragmentsTooDeep);
        }
        let mut total: u64 = 0;
        for item in &set.items {
            let rows = match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let list = LISTS.iter().find(|l| l.name == f.name.node.as_str());
                    let inner = match list.and_then(|l| l.items) {
                        Some(items) => {
                            // page × the items child; the other children once.
                            let page = self.page(list.expect("has items"), f);
                            let mut sum: u64 = 0;
                            for child in &f.selection_set.node.items {
                                let one = SelectionSet {
                                    items: vec![child.clone()],
                                };
                                let cost = self.rows(&one, depth)?;
                                let is_items = matches!(&child.node, Selection::Field(c) if c.node.name.node.as_str() == items);
                                sum = sum.saturating_add(if is_items {
                                    page.saturating_mul(cost.max(1))
                                } else {
                                    cost
                                });
                            }
                            total = total.saturating_add(sum.max(1));
                            continue;
                        }
                        None => self.rows(&f.selection_set.node, depth)?,
                    };
                    match list {
                        Some(list) => {
                            let page = self.page(list, f);
                            // A page of rows, each holding whatever lists it selects.
                            page.saturating_mul(inner.max(1))
                        }
                        None => inner,
                    }
                }
                Selection::FragmentSpread(s) => {
                    match self.fragments.get(&s.node.fragment_name.node) {
                        Some(frag) => self.rows(&frag.node.selection_set.node, depth + 1)?,
                        None => 0,
                    }
                }
                Selection::InlineFragment(i) => self.rows(&i.node.selection_set.node, depth + 1)?,
            };
            total = total.saturating_add(rows);
        }
        Ok(total)
    }
}

/// The cost of the operation `operation_name` of `doc`. `max_page` is the caller's
/// largest page (tokens may ask more per page than browsers).
pub fn cost(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    max_page: u64,
) -> Result<Cost, CostError> {
    let op = operation(doc, operation_name).ok_or(CostError::NoOperation)?;
    let counter = Counter {
        fragments: &doc.fragments,
        variables,
        defaults: op
            .node
            .variable_definitions
            .iter()
            .filter_map(|v| {
                v.node
                    .default_value
                    .as_ref()
                    .map(|d| (v.node.name.node.as_str(), &d.node))
            })
            .collect(),
        max_page,
    };
    let mut roots = Vec::new();
    collect_roots(&op.node.selection_set.node, &doc.fragments, &mut roots, 0)?;
    let root_fields = roots.iter().filter(|r| !r.starts_with("__")).count();
    if root_fields > MAX_ROOT_FIELDS {
        return Err(CostError::TooManyRootFields(root_fields));
    }
    let rows = counter.rows(&op.node.selection_set.node, 0)?.max(1);
    if rows > MAX_ROWS_PER_OPERATION {
        return Err(CostError::TooManyRows(rows));
    }
    Ok(Cost {
        rows,
        root_fields,
        roots,
    })
}

fn collect_roots(
    set: &SelectionSet,
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    out: &mut Vec<String>,
    depth: usize,
) -> Result<(), CostError> {
    if depth > MAX_FRAGMENT_DEPTH {
        return Err(CostError::FragmentsTooDeep);
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(f.node.name.node.to_string()),
            Selection::FragmentSpread(s) => {
                if let Some(frag) = fragments.get(&s.node.fragment_name.node) {
                    collect_roots(&frag.node.selection_set.node, fragments, out, depth + 1)?;
                }
            }
            Selection::InlineFragment(i) => {
                collect_roots(&i.node.selection_set.node, fragments, out, depth + 1)?
            }
        }
    }
    Ok(())
}

/// Per-minute row budgets, per caller (a token or a browser session). Fixed one-minute
/// windows; the map is bounded and forgets windows that have ended.
pub struct Budgets {
    windows: Mutex<HashMap<String, (Instant, u64)>>,
}

/// What a caller may still spend in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetState {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

const WINDOW: Duration = Duration::from_secs(60);
const MAX_CALLERS: usize = 50_000;

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            windows: Mutex::new(HashMap::new()),
        }
    }
}

/// `caller`'s window (start, rows used), started afresh when the last one ended; callers
/// whose windows ended are forgotten when the map is full.
fn current_window<'a>(
    w: &'a mut HashMap<String, (Instant, u64)>,
    caller: &str,
    now: Instant,
) -> &'a mut (Instant, u64) {
    if w.len() >= MAX_CALLERS && !w.contains_key(caller) {
        w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
    }
    let entry = w.entry(caller.to_owned()).or_insert((now, 0));
    if now.duration_since(entry.0) >= WINDOW {
        *entry = (now, 0);
    }
    entry
}

impl Budgets {
    /// The caller's window if its budget is spent (checked before any parsing, so a caller
    /// that keeps sending refused work is answered 429 at almost no cost).
    pub fn spent(&self, caller: &str, limit: u64) -> Option<BudgetState> {
        let now = Instant::now();
        let w = self.windows.lock().expect("budget lock");
        let (start, used) = *w.get(caller)?;
        let elapsed = now.duration_since(start);
        (elapsed < WINDOW && used >= limit).then(|| BudgetState {
            limit,
            remaining: 0,
            reset_secs: WINDOW.saturating_sub(elapsed).as_secs().max(1),
        })
    }

    /// Charges a refused operation (too large, unparsable, too costly) a tenth of the
    /// budget, or what is left of it: refusing costs the portal work too.
    pub fn penalise(&self, caller: &str, limit: u64) {
        let now = Instant::now();
        let mut w = self.windows.lock().expect("budget lock");
        let entry = current_window(&mut w, caller, now);
        entry.1 = entry.1.saturating_add(limit / 10).min(limit);
    }

    /// Charges `rows` to `caller` if its budget allows; otherwise nothing is charged.
    pub fn charge(&self, caller: &str, rows: u64, limit: u64) -> Result<BudgetState, BudgetState> {
        let now = Instant::now();
        let mut w = self.windows.lock().expect("budget lock");
        let entry = current_window(&mut w, caller, now);
        let reset_secs = WINDOW
            .saturating_sub(now.duration_since(entry.0))
            .as_secs()
            .max(1);
        if entry.1.saturating_add(rows) > limit {
            return Err(BudgetState {
                limit,
                remaining: limit.saturating_sub(entry.1),
                reset_secs,
            });
        }
        entry.1 += rows;
        Ok(BudgetState {
            limit,
            remaining: limit - entry.1,
            reset_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(q: &str, vars: serde_json::Value, max_page: u64) -> Result<u64, CostError> {
        let doc = async_graphql::parser::parse_query(q).unwrap();
        let vars = Variables::from_json(vars);
        cost(&doc, None, &vars, max_page).map(|c| c.rows)
    }

    #[test]
    fn a_page_counts_its_first_once_per_alias() {
        assert_eq!(
            rows(
                "{ inventory(first: 200) { rows { part } } }",
                serde_json::json!({}),
                500
            ),
            Ok(200)
        );
        // Without `first`, the default page.
        assert_eq!(
            rows(
                "{ inventory { rows { part onHandQty } totalCount } }",
                serde_json::json!({}),
                500
            ),
            Ok(100)
        );
        // Variables and their defaults count.
        assert_eq!(
            rows(
                "query($n: Int = 300) { inventory(first: $n) { rows { part } } }",
                serde_json::json!({}),
                500
            ),
            Ok(300)
        );
        assert_eq!(
            rows(
                "query($n: Int) { inventory(first: $n) { rows { part } } }",
                serde_json::json!({ "n": 50 }),
                500
            ),
            Ok(50)
        );
    }

    #[test]
    fn aliases_and_fragments_cannot_hide_rows() {
        let mut q = String::from("{");
        for i in 0..300 {
            q.push_str(&format!(
                " a{i}: inventory(first: 500) {{ rows {{ ...R }} }}"
            ));
        }
        q.push_str(" } fragment R on InventoryRow { part description onHandQty }");
        assert!(matches!(
            rows(&q, serde_json::json!({}), 500),
            Err(CostError::TooManyRootFields(300))
        ));
        let q = "{ a: inventory(first: 500) { rows { ...R } } b: inventory(first: 500) { rows { ...R } } }
                 fragment R on InventoryRow { part description onHandQty customer bin status }";
        // 2 aliases x 500 rows.
        assert_eq!(rows(q, serde_json::json!({}), 500), Ok(1_000));
        // A token's 5,000-row page is fine; five of them are not.
        let page =
            "{ inventory(first: 5000) { rows { part description onHandQty customer bin } } }";
        assert_eq!(rows(page, serde_json::json!({}), 5_000), Ok(5_000));
        let big = "{ a: inventory(first: 5000) { rows { part } } b: inventory(first: 5000) { rows { part } }
                     c: inventory(first: 5000) { rows { part } } d: inventory(first: 5000) { rows { part } }
                     e: inventory(first: 5000) { rows { part } } }";
        assert!(matches!(
            rows(big, serde_json::json!({}), 5_000),
            Err(CostError::TooManyRows(_))
        ));
        // A browser's page is capped at 500 whatever it asks.
        assert_eq!(
            rows(
                "{ inventory(first: 100000) { rows { part } } }",
                serde_json::json!({}),
                500
            ),
            Ok(500)
        );
        // Counts and facets beside a page are not multiplied by it.
        assert_eq!(
            rows(
                "{ inventory(first: 200) { totalCount facets { parts } rows { part } nextCursor } }",
                serde_json::json!({}),
                500
            ),
            Ok(200 + 1_000)
        );
        // Scalars alone cost the minimum.
        assert_eq!(
            rows("{ viewer { kind } }", serde_json::json!({}), 500),
            Ok(1)
        );
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let q = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(
            rows(q, serde_json::json!({}), 500),
            Err(CostError::FragmentsTooDeep)
        );
    }

    #[test]
    fn budgets_refuse_without_charging_and_reset() {
        let b = Budgets::default();
        assert_eq!(b.charge("t1", 600, 1_000).unwrap().remaining, 400);
        let refused = b.charge("t1", 600, 1_000).unwrap_err();
        assert_eq!(refused.remaining, 400);
        assert!(refused.reset_secs >= 1 && refused.reset_secs <= 60);
        assert_eq!(b.charge("t1", 400, 1_000).unwrap().remaining, 0);
        assert_eq!(
            b.charge("t2", 1_000, 1_000).unwrap().remaining,
            0,
            "per caller"
        );
        assert!(b.spent("t2", 1_000).is_some());
        assert!(b.spent("t3", 1_000).is_none());
        for _ in 0..9 {
            b.penalise("t3", 1_000);
        }
        assert!(
            b.spent("t3", 1_000).is_none(),
            "nine refusals leave a tenth"
        );
        b.penalise("t3", 1_000);
        assert_eq!(
            b.spent("t3", 1_000).unwrap().remaining,
            0,
            "ten refusals spend it"
        );
    }
}
