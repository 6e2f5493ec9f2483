//! What an operation costs, counted before it runs.
//!
//! The unit is a *row*: one inventory row, audit entry, account or session the answer may
//! hold. The count is made on the operation as it will run — every named and inline
//! fragment expanded where it is spread, at any depth, every alias counted, fields under
//! `@skip(if: true)` / `@include(if: false)` left out — and by the schema's *types*, not
//! by field names, so a list field added later is counted without touching this file:
//!
//! - a field that returns a list yields at most *n* items, each costing at least one row
//!   (times the rows of the lists it selects). *n* is the field's own page argument
//!   (`first`, `limit`, `days`; its default when not given) capped at the caller's largest
//!   page; for a list directly under a field that took a page (a connection's `rows`,
//!   `entries`, …) the parent's page; otherwise [`UNPAGED_LIST_ROWS`].
//! - a list of plain values (strings, enums) inside a row is part of that row: free.
//! - a type whose resolution reads the whole scope (see [`SCAN_TYPES`]) costs its scan
//!   wherever it is selected.
//!
//! Every operation costs at least one row, at most [`MAX_ROWS_PER_OPERATION`], and holds
//! at most [`MAX_SELECTIONS`] fields once expanded. The count is an upper bound the caller
//! chose, so it can be refused before any work is done, and charged against a per-minute
//! budget.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use async_graphql::Variables;
use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition,
    OperationDefinition, OperationType, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};
use parking_lot::Mutex;

/// Most rows one operation may ask for, across all its aliases.
pub const MAX_ROWS_PER_OPERATION: u64 = 20_000;
/// Most fields (aliases included) at the top of one operation.
pub const MAX_ROOT_FIELDS: usize = 20;
/// Most fields one operation may select once its fragments are expanded, duplicates and
/// aliases included.
pub const MAX_SELECTIONS: usize = 1_000;
/// Operations that may answer more rows than this take the heavy lane: a few at a time
/// per instance, so four tools asking for the largest answer at once cost the memory of
/// one or two, and browsers keep a core.
pub const HEAVY_ROWS: u64 = 5_000;
/// How long an operation waits for the heavy lane before it is told to come back.
const HEAVY_WAIT: Duration = Duration::from_secs(30);
/// Operations waiting for the heavy lane at most; more are refused at once.
const HEAVY_QUEUE: usize = 32;
/// What a refused large operation is told to wait.
pub const HEAVY_RETRY: Duration = Duration::from_secs(5);

/// The most rows one page of `inventory` may cost for this caller (the inventory's own
/// page rule).
pub fn max_page(viewer: &crate::auth::Viewer) -> u64 {
    crate::inventory::max_page(matches!(viewer, crate::auth::Viewer::Token(_))) as u64
}

/// The lane large answers take: as many at once as half the cores (at least one).
pub struct HeavyLane {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
}

impl Default for HeavyLane {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HeavyLane::new((cores / 2).max(1))
    }
}

impl HeavyLane {
    pub fn new(width: usize) -> HeavyLane {
        HeavyLane {
            permits: tokio::sync::Semaphore::new(width),
            waiting: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A place in the lane, waiting at most [`HEAVY_WAIT`] behind at most [`HEAVY_QUEUE`]
    /// others; `None`: come back later.
    pub async fn enter(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        use std::sync::atomic::Ordering;
        if let Ok(p) = self.permits.try_acquire() {
            return Some(p);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= HEAVY_QUEUE {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let got = tokio::time::timeout(HEAVY_WAIT, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        got.ok().and_then(Result::ok)
    }
}
/// The default budget, rows per minute, per token and per browser session.
pub const DEFAULT_ROWS_PER_MINUTE: u64 = 200_000;
/// Rows a list without a page argument is counted at (the portal keeps such lists to
/// about this size: accounts, sessions, tokens, subscriptions, a scope's facet values).
pub const UNPAGED_LIST_ROWS: u64 = 1_000;
/// Integer arguments that bound how many items a field returns.
const PAGE_ARGUMENTS: &[&str] = &["first", "limit", "days"];
/// Types whose resolution reads every row of the caller's scope once, priced like a large
/// page wherever they are selected.
pub const SCAN_TYPES: &[(&str, u64)] = &[("InventoryFacets", 1_000)];
/// Fragments spread inside fragments deeper than this are refused (cycles included).
const MAX_FRAGMENT_DEPTH: usize = 16;

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
    TooManySelections,
    FragmentsTooDeep,
}

impl CostError {
    pub fn message(&self) -> String {
        match self {
            CostError::NoOperation => "name the operation to run (operationName)".to_owned(),
            CostError::TooManyRows(n) => format!(
                "the operation may return {n} rows; at most {MAX_ROWS_PER_OPERATION} per operation (count `first` across aliases and fragments)"
            ),
            CostError::TooManyRootFields(n) => {
                format!("{n} top-level fields; at most {MAX_ROOT_FIELDS} per operation")
            }
            CostError::TooManySelections => format!(
                "more than {MAX_SELECTIONS} fields once fragments are expanded; at most {MAX_SELECTIONS} per operation"
            ),
            CostError::FragmentsTooDeep => "fragments nested too deeply".to_owned(),
        }
    }
}

/// What the counter needs to know of one field of the schema.
#[derive(Debug, Clone)]
struct FieldShape {
    /// The named type under any list and non-null wrappers.
    ty: String,
    list: bool,
    /// The argument that bounds how many items it returns, and its default.
    page: Option<(String, Option<u64>)>,
}

/// The schema's object types and their fields, read from its SDL.
#[derive(Debug, Default)]
pub struct Shapes {
    objects: HashMap<String, HashMap<String, FieldShape>>,
}

fn named(ty: &Type) -> (&str, bool) {
    match &ty.base {
        BaseType::Named(n) => (n.as_str(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

impl Shapes {
    /// Reads the object types of an SDL document (interfaces count as objects).
    pub fn from_sdl(sdl: &str) -> Result<Shapes, String> {
        let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
        let mut objects = HashMap::new();
        for def in &doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let fields = match &t.node.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => continue,
            };
            let shapes = fields
                .iter()
                .map(|f| {
                    let (ty, list) = named(&f.node.ty.node);
                    let page = f.node.arguments.iter().find_map(|a| {
                        let arg = a.node.name.node.as_str();
                        (PAGE_ARGUMENTS.contains(&arg) && named(&a.node.ty.node).0 == "Int").then(
                            || {
                                let default =
                                    a.node.default_value.as_ref().and_then(|d| match &d.node {
                                        ConstValue::Number(n) => n.as_u64(),
                                        _ => None,
                                    });
                                (arg.to_owned(), default)
                            },
                        )
                    });
                    (
                        f.node.name.node.to_string(),
                        FieldShape {
                            ty: ty.to_owned(),
                            list,
                            page,
                        },
                    )
                })
                .collect();
            objects.insert(t.node.name.node.to_string(), shapes);
        }
        Ok(Shapes { objects })
    }

    /// The portal's own schema, read once.
    pub fn portal() -> &'static Shapes {
        static SHAPES: OnceLock<Shapes> = OnceLock::new();
        SHAPES.get_or_init(|| Shapes::from_sdl(&super::sdl()).expect("our own SDL parses"))
    }

    fn field(&self, ty: &str, name: &str) -> Option<&FieldShape> {
        self.objects.get(ty)?.get(name)
    }

    fn is_object(&self, ty: &str) -> bool {
        self.objects.contains_key(ty)
    }

    /// Every list field as (its type, its name): what the cost rule must count.
    pub fn list_fields(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .objects
            .iter()
            .flat_map(|(ty, fields)| {
                fields
                    .iter()
                    .filter(|(_, f)| f.list)
                    .map(move |(name, _)| (ty.clone(), name.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// A chain of (field, its type) from `root` to a field of `target`, for tests that
    /// reach every list field (a breadth-first search over object fields).
    pub fn path_to(&self, root: &str, target: &str) -> Option<Vec<String>> {
        let mut seen = std::collections::HashSet::from([root.to_owned()]);
        let mut queue = std::collections::VecDeque::from([(root.to_owned(), Vec::new())]);
        while let Some((ty, path)) = queue.pop_front() {
            if ty == target {
                return Some(path);
            }
            let Some(fields) = self.objects.get(&ty) else {
                continue;
            };
            let mut names: Vec<&String> = fields.keys().collect();
            names.sort();
            for name in names {
                let f = &fields[name];
                if self.is_object(&f.ty) && seen.insert(f.ty.clone()) {
                    let mut next = path.clone();
                    next.push(name.clone());
                    queue.push_back((f.ty.clone(), next));
                }
            }
        }
        None
    }

    /// The type a chain of field names from `root` ends at.
    pub fn type_at(&self, root: &str, path: &[String]) -> Option<String> {
        let mut ty = root.to_owned();
        for name in path {
            ty = self.field(&ty, name)?.ty.clone();
        }
        Some(ty)
    }

    /// A field of `ty` that returns a plain value (for a selection that costs nothing).
    pub fn leaf_of(&self, ty: &str) -> Option<String> {
        let mut names: Vec<(&String, &FieldShape)> = self
            .objects
            .get(ty)?
            .iter()
            .filter(|(_, f)| !f.list && !self.is_object(&f.ty))
            .collect();
        names.sort_by_key(|(n, _)| n.as_str());
        names.first().map(|(n, _)| (*n).clone())
    }

    /// Whether `name` on `ty` returns objects (needs a selection) and its page argument.
    pub fn describe(&self, ty: &str, name: &str) -> Option<(bool, Option<String>)> {
        let f = self.field(ty, name)?;
        Some((
            self.is_object(&f.ty),
            f.page.as_ref().map(|(a, _)| a.clone()),
        ))
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

/// Where a selection set sits: the page its parent field took (for a connection's lists)
/// and whether it is inside a list item.
#[derive(Clone, Copy, Default)]
struct Place {
    page: Option<u64>,
    in_item: bool,
}

struct Counter<'a> {
    shapes: &'a Shapes,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    defaults: HashMap<&'a str, &'a ConstValue>,
    max_page: u64,
    selections: usize,
    /// Every selection visited (fields, spreads, inline fragments), skipped ones included:
    /// bounds the walk itself, whatever the fragments multiply.
    visits: usize,
}

/// Most selections the counter visits before refusing (a walk of skipped fields and
/// spreads of spreads is bounded too).
const MAX_VISITS: usize = 4 * MAX_SELECTIONS;

impl Counter<'_> {
    fn visit(&mut self) -> Result<(), CostError> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return Err(CostError::TooManySelections);
        }
        Ok(())
    }

    fn value(&self, v: &Value) -> Option<ConstValue> {
        match v {
            Value::Variable(name) => self
                .variables
                .get(name)
                .or_else(|| self.defaults.get(name.as_str()).copied())
                .cloned(),
            other => other.clone().into_const(),
        }
    }

    /// Whether `@skip` / `@include` leave this selection out. An argument that cannot be
    /// read (validation will refuse it) leaves it in: the count stays an upper bound.
    fn skipped(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().any(|d| {
            let wanted = match d.node.name.node.as_str() {
                "skip" => true,
                "include" => false,
                _ => return false,
            };
            let cond = d
                .node
                .arguments
                .iter()
                .find(|(n, _)| n.node.as_str() == "if")
                .and_then(|(_, v)| self.value(&v.node));
            matches!(cond, Some(ConstValue::Boolean(b)) if b == wanted)
        })
    }

    /// The page `f` asks for through `shape`'s page argument, capped at the caller's
    /// largest page.
    fn page(&self, shape: &FieldShape, f: &Field) -> Option<u64> {
        let (arg, default) = shape.page.as_ref()?;
        let asked = f
            .arguments
            .iter()
            .find(|(n, _)| n.node.as_str() == arg)
            .and_then(|(_, v)| match self.value(&v.node) {
                Some(ConstValue::Number(n)) => n.as_u64(),
                _ => None,
            })
            .or(*default)
            // No default in the schema (inventory's `first`): the resolver's own.
            .unwrap_or(crate::inventory::DEFAULT_PAGE as u64);
        Some(asked.min(self.max_page))
    }

    fn rows(
        &mut self,
        set: &SelectionSet,
        ty: &str,
        place: Place,
        depth: usize,
    ) -> Result<u64, CostError> {
        if depth > MAX_FRAGMENT_DEPTH {
            return Err(CostError::FragmentsTooDeep);
        }
        let mut total: u64 = 0;
        for item in &set.items {
            self.visit()?;
            let rows = match &item.node {
                Selection::Field(f) => {
                    if self.skipped(&f.node.directives) {
                        continue;
                    }
                    self.selections += 1;
                    if self.selections > MAX_SELECTIONS {
                        return Err(CostError::TooManySelections);
                    }
                    self.field(&f.node, ty, place, depth)?
                }
                Selection::FragmentSpread(s) => {
                    if self.skipped(&s.node.directives) {
                        continue;
                    }
                    match self.fragments.get(&s.node.fragment_name.node) {
                        Some(frag) => {
                            let on = frag.node.type_condition.node.on.node.as_str();
                            self.rows(&frag.node.selection_set.node, on, place, depth + 1)?
                        }
                        None => 0,
                    }
                }
                Selection::InlineFragment(i) => {
                    if self.skipped(&i.node.directives) {
                        continue;
                    }
                    let on = i
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(ty, |c| c.node.on.node.as_str());
                    self.rows(&i.node.selection_set.node, on, place, depth + 1)?
                }
            };
            total = total.saturating_add(rows);
        }
        Ok(total)
    }

    fn field(&mut self, f: &Field, ty: &str, place: Place, depth: usize) -> Result<u64, CostError> {
        let children = &f.selection_set.node;
        let Some(shape) = self.shapes.field(ty, f.name.node.as_str()).cloned() else {
            // `__typename`, introspection (a fixed schema, bounded by the depth limit) or a
            // name validation will refuse: nothing to charge, but its fields still count
            // towards the selection limit.
            self.rows(children, "", Place::default(), depth)?;
            return Ok(0);
        };
        let own_page = self.page(&shape, f);
        let inner_place = Place {
            // A page object's lists hold the page; a list's items start afresh.
            page: if shape.list { None } else { own_page },
            in_item: place.in_item || shape.list,
        };
        let scan = SCAN_TYPES
            .iter()
            .find(|(t, _)| *t == shape.ty)
            .map_or(0, |(_, rows)| *rows);
        let inner = self
            .rows(children, &shape.ty, inner_place, depth)?
            .saturating_add(scan);
        if !shape.list {
            return Ok(inner);
        }
        let items = match own_page.or(place.page) {
            Some(n) => n,
            // Plain values inside a row are part of the row.
            None if place.in_item && !self.shapes.is_object(&shape.ty) => return Ok(inner),
            None => UNPAGED_LIST_ROWS,
        };
        Ok(items.saturating_mul(inner.max(1)))
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
    cost_with(Shapes::portal(), doc, operation_name, variables, max_page)
}

/// [`cost`] against any schema's shapes.
pub fn cost_with(
    shapes: &Shapes,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    max_page: u64,
) -> Result<Cost, CostError> {
    let op = operation(doc, operation_name).ok_or(CostError::NoOperation)?;
    let mut counter = Counter {
        shapes,
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
        selections: 0,
        visits: 0,
    };
    let mut roots = Vec::new();
    counter.roots(&op.node.selection_set.node, &mut roots, 0)?;
    counter.visits = 0;
    let root_fields = roots.iter().filter(|r| !r.starts_with("__")).count();
    if root_fields > MAX_ROOT_FIELDS {
        return Err(CostError::TooManyRootFields(root_fields));
    }
    let root = match op.node.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let rows = counter
        .rows(&op.node.selection_set.node, root, Place::default(), 0)?
        .max(1);
    if rows > MAX_ROWS_PER_OPERATION {
        return Err(CostError::TooManyRows(rows));
    }
    Ok(Cost {
        rows,
        root_fields,
        roots,
    })
}

impl Counter<'_> {
    /// The root fields' names, fragments expanded.
    fn roots(
        &mut self,
        set: &SelectionSet,
        out: &mut Vec<String>,
        depth: usize,
    ) -> Result<(), CostError> {
        if depth > MAX_FRAGMENT_DEPTH {
            return Err(CostError::FragmentsTooDeep);
        }
        for item in &set.items {
            self.visit()?;
            match &item.node {
                Selection::Field(f) => {
                    if !self.skipped(&f.node.directives) {
                        out.push(f.node.name.node.to_string());
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(frag) = self.fragments.get(&s.node.fragment_name.node)
                        && !self.skipped(&s.node.directives)
                    {
                        self.roots(&frag.node.selection_set.node, out, depth + 1)?;
                    }
                }
                Selection::InlineFragment(i) => {
                    if !self.skipped(&i.node.directives) {
                        self.roots(&i.node.selection_set.node, out, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }
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
        let w = self.windows.lock();
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
        let mut w = self.windows.lock();
        let entry = current_window(&mut w, caller, now);
        entry.1 = entry.1.saturating_add(limit / 10).min(limit);
    }

    /// Charges `rows` to `caller` if its budget allows; otherwise nothing is charged.
    pub fn charge(&self, caller: &str, rows: u64, limit: u64) -> Result<BudgetState, BudgetState> {
        let now = Instant::now();
        let mut w = self.windows.lock();
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
            // the page, the facets' scan, and the list of part names.
            Ok(200 + 1_000 + 1_000)
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

    /// A query reaching `list` on `ty` through `path` from `root`, the list selected
    /// `aliases` times in the given `form`, and the whole path `roots` times at the top.
    fn reach(
        shapes: &Shapes,
        (root, path): (&str, &[String]),
        (ty, list): (&str, &str),
        form: &str,
        aliases: usize,
        roots: usize,
    ) -> String {
        let args = |ty: &str, name: &str| match shapes.describe(ty, name) {
            Some((_, Some(arg))) => format!("({arg}: 40)"),
            _ => String::new(),
        };
        let (object, _) = shapes.describe(ty, list).unwrap();
        let inner = if object {
            format!(
                "{{ {} }}",
                shapes
                    .leaf_of(&shapes.field(ty, list).unwrap().ty)
                    .unwrap_or("__typename".into())
            )
        } else {
            String::new()
        };
        let lists: String = (0..aliases)
            .map(|i| format!(" l{i}: {list}{} {inner}", args(ty, list)))
            .collect();
        let (body, fragments) = match form {
            "direct" => (lists, String::new()),
            "named" => (
                " ...L".to_owned(),
                format!(" fragment L on {ty} {{{lists} }}"),
            ),
            "inline" => (format!(" ... on {ty} {{{lists} }}"), String::new()),
            "nested" => (
                " ...Outer".to_owned(),
                format!(
                    " fragment Outer on {ty} {{ ...Inner }} fragment Inner on {ty} {{{lists} }}"
                ),
            ),
            "untyped" => (format!(" ... {{{lists} }}"), String::new()),
            other => panic!("{other}"),
        };
        // Wrap the body in the path's fields, innermost first.
        let mut types = vec![root.to_owned()];
        for name in path {
            let next = shapes
                .field(types.last().unwrap(), name)
                .unwrap()
                .ty
                .clone();
            types.push(next);
        }
        let mut text = body;
        for (i, name) in path.iter().enumerate().rev() {
            text = format!(" {name}{} {{{text} }}", args(&types[i], name));
        }
        if roots > 1 {
            let first = path.first().expect("a path");
            let inner = text
                .trim_start()
                .strip_prefix(first.as_str())
                .unwrap()
                .to_owned();
            text = (0..roots)
                .map(|i| format!(" r{i}: {first}{inner}"))
                .collect();
        }
        let op = if root == "Mutation" { "mutation " } else { "" };
        format!("{op}{{{text} }}{fragments}")
    }

    fn cost_of(q: &str, max_page: u64) -> Result<u64, CostError> {
        let doc = async_graphql::parser::parse_query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        cost(&doc, None, &Variables::default(), max_page).map(|c| c.rows)
    }

    #[test]
    fn every_list_field_is_charged_alike_however_it_is_spelled() {
        let shapes = Shapes::portal();
        let lists = shapes.list_fields();
        assert!(lists.len() > 20, "{lists:?}");
        let mut checked = 0;
        for (ty, list) in &lists {
            if ty.starts_with("__") {
                continue;
            }
            let (root, path) = ["Query", "Mutation"]
                .iter()
                .find_map(|r| shapes.path_to(r, ty).map(|p| (*r, p)))
                .unwrap_or_else(|| panic!("{ty} cannot be reached"));
            for aliases in [1, 5] {
                let direct = cost_of(
                    &reach(shapes, (root, &path), (ty, list), "direct", aliases, 1),
                    5_000,
                );
                for form in ["named", "inline", "nested", "untyped"] {
                    let q = reach(shapes, (root, &path), (ty, list), form, aliases, 1);
                    assert_eq!(
                        cost_of(&q, 5_000),
                        direct,
                        "{ty}.{list} as {form} x{aliases}: {q}"
                    );
                }
            }
            let one = cost_of(
                &reach(shapes, (root, &path), (ty, list), "direct", 1, 1),
                5_000,
            )
            .unwrap();
            let five = cost_of(
                &reach(shapes, (root, &path), (ty, list), "direct", 5, 1),
                5_000,
            );
            let (object, _) = shapes.describe(ty, list).unwrap();
            if object || path.is_empty() {
                // Rows of their own: five aliases cost more than one.
                assert!(
                    five.as_ref().map_or(true, |f| *f > one),
                    "{ty}.{list}: {five:?} vs {one}"
                );
            }
            // The whole path aliased at the top: exactly that many times the cost.
            if !path.is_empty() {
                let three = cost_of(
                    &reach(shapes, (root, &path), (ty, list), "direct", 1, 3),
                    5_000,
                );
                assert_eq!(
                    three,
                    if one * 3 > MAX_ROWS_PER_OPERATION {
                        Err(CostError::TooManyRows(one * 3))
                    } else {
                        Ok(one * 3)
                    },
                    "{ty}.{list} at the top x3"
                );
            }
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn the_fragment_that_hid_three_hundred_thousand_rows_is_refused() {
        let mut q = String::from("{");
        for i in 0..20 {
            q.push_str(&format!(" a{i}: inventory(first: 5000) {{ ...R }}"));
        }
        q.push_str(" } fragment R on InventoryConnection {");
        for i in 0..5 {
            q.push_str(&format!(" r{i}: rows {{ customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status }}"));
        }
        q.push_str(" }");
        assert!(cost_of(&q, 5_000).is_err(), "refused before it runs");
        // With fewer fields per row, the rows it would return are what refuses it.
        let q = q.replace(
            "customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status",
            "part description",
        );
        assert_eq!(cost_of(&q, 5_000), Err(CostError::TooManyRows(500_000)));
        // One connection with the five aliases through a fragment: five pages.
        let one = "{ inventory(first: 5000) { ...R } } fragment R on InventoryConnection { a: rows { part } b: rows { part } c: rows { part } d: rows { part } }";
        assert_eq!(cost_of(one, 5_000), Ok(20_000));
        // A browser's page is capped at 500 however it is spelled.
        assert_eq!(cost_of(one, 500), Ok(2_000));
        // The same through inline fragments at two levels.
        let inline = "{ inventory(first: 300) { ... on InventoryConnection { ... { x: rows { part } y: rows { part } } } } }";
        assert_eq!(cost_of(inline, 500), Ok(600));
        // Admin lists hid behind fragments too.
        let audit = "{ auditLog(first: 400) { ...A } } fragment A on AuditLogPage { a: entries { id } b: entries { id } }";
        assert_eq!(cost_of(audit, 500), Ok(800));
    }

    #[test]
    fn skipped_fields_cost_nothing_and_included_ones_count() {
        let q = "query($no: Boolean!) { a: inventory(first: 400) @skip(if: true) { rows { part } } b: inventory(first: 300) { rows @include(if: $no) { part } } c: inventory(first: 200) { ...R @skip(if: $no) } } fragment R on InventoryConnection { rows { part } }";
        let doc = async_graphql::parser::parse_query(q).unwrap();
        let no = Variables::from_json(serde_json::json!({ "no": false }));
        assert_eq!(cost(&doc, None, &no, 500).map(|c| c.rows), Ok(200));
        let yes = Variables::from_json(serde_json::json!({ "no": true }));
        assert_eq!(cost(&doc, None, &yes, 500).map(|c| c.rows), Ok(300));
    }

    #[test]
    fn fields_are_capped_after_expansion() {
        // 1,000 duplicates of a free field.
        let many: String = (0..1_001).map(|_| " kind").collect();
        let q = format!("{{ viewer {{{many} }} }}");
        assert_eq!(cost_of(&q, 500), Err(CostError::TooManySelections));
        let fine: String = (0..900).map(|_| " kind").collect();
        assert_eq!(cost_of(&format!("{{ viewer {{{fine} }} }}"), 500), Ok(1));
        // A fragment spread four times is counted four times.
        let frag: String = (0..300).map(|_| " kind").collect();
        let q = format!("{{ viewer {{ ...F ...F ...F ...F }} }} fragment F on Viewer {{{frag} }}");
        assert_eq!(cost_of(&q, 500), Err(CostError::TooManySelections));
        // Spreads of spreads that double at every level stop early, skipped or not.
        let mut q = String::from("{ ...F0 }");
        for i in 0..15 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        q.push_str(" fragment F15 on Query { viewer @skip(if: true) { kind } }");
        assert_eq!(cost_of(&q, 500), Err(CostError::TooManySelections));
    }
}
