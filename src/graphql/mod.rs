//! The one schema: the only road to portal data for pages, htmx fragments and tools.
//!
//! Resolvers read the caller from the request data (`Viewer`) and the ports from the
//! schema data; guards in [`guards`] are the single place where access is decided.

pub mod account;
pub mod admin;
pub mod analytics;
pub mod cost;
pub mod cursor;
pub mod customer;
pub mod guards;
pub mod history;
pub mod inventory;
pub mod minimums;
pub mod outbox;
pub mod reports;
pub mod saved_views;
pub mod stores;
pub mod streamed;
pub mod team;
pub mod tokens;
pub mod two_factor;
pub mod viewer;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

use crate::inventory::InventoryService;
use crate::store::{ActiveSessionStore, AppStore, AuditStore, CustomerStore};

#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    inventory::InventoryQuery,
    admin::AdminQuery,
    outbox::OutboxQuery,
    tokens::TokensQuery,
    account::AccountQuery,
    minimums::MinimumsQuery,
    saved_views::SavedViewsQuery,
    reports::ReportsQuery,
    history::HistoryQuery,
    two_factor::TwoFactorQuery,
    team::TeamQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    admin::AdminMutation,
    account::AccountMutation,
    tokens::TokensMutation,
    minimums::MinimumsMutation,
    saved_views::SavedViewsMutation,
    reports::ReportsMutation,
    two_factor::TwoFactorMutation,
    team::TeamMutation,
);

pub type PortalSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits that keep one request from asking for unbounded work.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        // "Did you mean …" would describe the schema to anyone who mistypes.
        .disable_suggestions()
}

/// What the resolvers reach: the app database (through its narrow traits), the
/// inventory service, and the account, sign-in and mail services.
pub struct Ports {
    pub store: Arc<dyn AppStore>,
    pub inventory: Arc<InventoryService>,
    pub customers: Arc<crate::customers::CustomerAdmin>,
    pub auth: Arc<crate::auth::service::AuthService>,
    pub mailer: Arc<crate::mail::Mailer>,
    pub tokens: Arc<crate::auth::tokens::ApiTokens>,
    pub resets: Arc<crate::auth::reset::PasswordResets>,
    /// Schedules and sends reports (its clock decides when a new one is first due).
    pub scheduler: Arc<crate::reports::Scheduler>,
    /// The daily inventory record and its forecasts.
    pub history: Arc<crate::history::History>,
    /// Two-step sign-in: enrolment and turning it off.
    pub two_factor: Arc<crate::auth::two_factor::TwoFactor>,
    /// Signs the cursors of lists paged by key.
    pub cursor_key: cursor::CursorKey,
    /// `PORTAL_TIMEZONE`: the zone of "per day" figures.
    pub zone: crate::domain::Zone,
}

/// The schema twice over the same resolvers and the same ports: `api` for `/graphql`,
/// which validates every operation it is sent against every rule; `pages` for the
/// operations the pages run in-process, which are fixed texts checked against
/// `schema.graphql` when the portal is compiled, so validating them again on every request
/// (a tenth of a page's time) is skipped: the fast mode keeps only the depth, complexity
/// and fragment-cycle checks. Every cache the resolvers keep is shared by both.
pub struct Schemas {
    pub api: PortalSchema,
    pub pages: PortalSchema,
}

pub fn build_schema(ports: Ports) -> PortalSchema {
    build_schemas(ports).api
}

pub fn build_schemas(ports: Ports) -> Schemas {
    let Ports {
        store,
        inventory,
        customers,
        auth,
        mailer,
        zone,
        tokens,
        cursor_key,
        resets,
        scheduler,
        history,
        two_factor,
    } = ports;
    // Resolvers see only the narrow store traits they use.
    let customer_store: Arc<dyn CustomerStore> = store.clone();
    let audit_store: Arc<dyn AuditStore> = store.clone();
    let minimum_store: Arc<dyn crate::store::PartMinimumStore> = store.clone();
    let view_store: Arc<dyn crate::store::SavedViewStore> = store.clone();
    let report_store: Arc<dyn crate::store::ReportStore> = store.clone();
    let history_store: Arc<dyn crate::store::HistoryStore> = store.clone();
    let session_store: Arc<dyn ActiveSessionStore> = store.clone();
    let minimums_cache = Arc::new(minimums::MinimumsCache::default());
    let with_ports = |b: SchemaBuilder<Query, Mutation, EmptySubscription>| {
        // Without a cache the loader only batches: every operation sees fresh rows.
        let loader = DataLoader::new(admin::CustomerLoader(store.clone()), tokio::spawn);
        b.data(customer_store.clone())
            .data(audit_store.clone())
            .data(session_store.clone())
            .data(minimum_store.clone())
            .data(minimums_cache.clone())
            .data(view_store.clone())
            .data(report_store.clone())
            .data(inventory.clone())
            .data(customers.clone())
            .data(auth.clone())
            .data(mailer.clone())
            .data(loader)
            .data(zone.clone())
            .data(tokens.clone())
            .data(cursor_key.clone())
            .data(resets.clone())
            .data(scheduler.clone())
            .data(history.clone())
            .data(history_store.clone())
            .data(two_factor.clone())
            .finish()
    };
    Schemas {
        api: with_ports(builder()),
        pages: with_ports(builder().validation_mode(async_graphql::ValidationMode::Fast)),
    }
}

/// The names of every query and mutation field (what a root selection may name). Derived
/// once from the schema itself, so it cannot drift from the resolvers.
pub fn root_field_names() -> &'static std::collections::HashSet<String> {
    static NAMES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let doc = async_graphql::parser::parse_schema(sdl()).expect("our own SDL parses");
        doc.definitions
            .iter()
            .filter_map(|d| match d {
                TypeSystemDefinition::Type(t)
                    if matches!(t.node.name.node.as_str(), "Query" | "Mutation") =>
                {
                    match &t.node.kind {
                        TypeKind::Object(o) => Some(
                            o.fields
                                .iter()
                                .map(|f| f.node.name.node.to_string())
                                .collect::<Vec<_>>(),
                        ),
                        _ => None,
                    }
                }
                _ => None,
            })
            .flatten()
            .collect()
    })
}

/// The SDL committed as `schema.graphql` and printed by `customer-portal print-schema`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
