//! `/inventory/export.xlsx` and `.csv`: exactly the rows the view selects, in its order,
//! from the inventory service with a grant from the same access rule as the grid.

use std::io::{BufWriter, Seek, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::auth::Viewer;
use crate::domain::ErpScope;
use crate::error::AppError;
use crate::export;
use crate::graphql::guards;
use crate::inventory::View;
use crate::state::AppState;
use crate::web::extractors::InventoryReader;

/// What an export's file is called: the scope, and the time on the portal's clock (when
/// the rows were read, if the ERP did not answer and they are stale).
struct ExportName {
    scope: ErpScope,
    at: OffsetDateTime,
    stale: bool,
    zone: crate::domain::Zone,
}

impl ExportName {
    fn with_ext(&self, ext: &str) -> String {
        export::file_name(&self.scope, self.at, self.stale, &self.zone, ext)
    }
}

/// Rows of an export: the same service, parameters and scope rule as the grid.
async fn export_rows(
    state: &AppState,
    viewer: &Viewer,
    view: &View,
) -> Result<
    (
        std::sync::Arc<crate::inventory::Snapshot>,
        Vec<u32>,
        ExportName,
    ),
    AppError,
> {
    let grant = guards::inventory_grant(viewer, None).map_err(|d| match d {
        guards::Denied::Unauthenticated => AppError::Unauthenticated,
        _ => AppError::Forbidden,
    })?;
    let scope = grant.scope().clone();
    // The view's minimums and forecasts, where its filters or sort read them: an export
    // holds exactly the rows the grid shows.
    let minimums = if view.below == "1" || view.needs_forecasts() {
        let list = state.store.part_minimums(scope.names().as_deref()).await?;
        Some(std::sync::Arc::new(crate::inventory::Minimums::from(list)))
    } else {
        None
    };
    let forecasts = if view.needs_forecasts() {
        Some(state.history.forecasts(&scope, minimums.as_deref()).await?)
    } else {
        None
    };
    let (snapshot, order, stale) = state
        .inventory
        .all(
            &grant,
            &view.selection(super::today(state), minimums, forecasts),
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "export: ERP unavailable");
            AppError::ErpUnavailable
        })?;
    let name = ExportName {
        scope,
        at: if stale {
            snapshot.as_of()
        } else {
            OffsetDateTime::now_utc()
        },
        stale,
        zone: state.config.portal_zone.clone(),
    };
    Ok((snapshot, order, name))
}

fn attachment(resp: &mut Response, content_type: &'static str, file_name: &str) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    InventoryReader(viewer): InventoryReader,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let started = std::time::Instant::now();
    let (snapshot, order, name) = export_rows(&state, &viewer, &view).await?;
    let today = super::today(&state);
    let count = order.len();
    // Written to an anonymous temporary file (constant memory), then streamed from disk.
    let file = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
        let mut file = tempfile::tempfile()?;
        {
            let writer = BufWriter::with_capacity(256 * 1024, &file);
            export::xlsx::write(
                &snapshot.rows,
                &order,
                snapshot.multi_customer,
                today,
                writer,
            )?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    tracing::info!(
        rows = count,
        bytes = len,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "XLSX export"
    );
    let stream =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 64 * 1024);
    let mut resp = Body::from_stream(stream).into_response();
    attachment(
        &mut resp,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name.with_ext("xlsx"),
    );
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        resp.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    Ok(resp)
}

/// Rows per streamed CSV chunk.
const CSV_CHUNK: usize = 2_000;
/// CSV chunks written ahead of the client at most.
const CSV_AHEAD: usize = 4;

pub async fn export_csv(
    State(state): State<AppState>,
    InventoryReader(viewer): InventoryReader,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let (snapshot, order, name) = export_rows(&state, &viewer, &view).await?;
    let today = super::today(&state);
    let order = std::sync::Arc::new(order);
    let header = export::csv::header(snapshot.multi_customer);
    // Chunks are written on a blocking thread a few ahead of the client (the channel holds
    // at most CSV_AHEAD), so writing the next chunk overlaps compressing and sending this
    // one; memory holds those chunks, not the file. The producer waits for room without
    // holding a thread, and stops when the client goes.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(CSV_AHEAD);
    tokio::spawn(async move {
        let mut start = 0usize;
        loop {
            let end = (start + CSV_CHUNK).min(order.len());
            let (snapshot, rows, header) = (snapshot.clone(), order.clone(), header.clone());
            let written = tokio::task::spawn_blocking(move || {
                let mut chunk = if start == 0 { header } else { String::new() };
                chunk.push_str(&export::csv::rows(
                    &snapshot.rows,
                    &rows[start..end],
                    snapshot.multi_customer,
                    today,
                ));
                Bytes::from(chunk)
            })
            .await;
            let Ok(chunk) = written else {
                tracing::error!("a CSV chunk could not be written");
                return;
            };
            if tx.send(chunk).await.is_err() || end == order.len() {
                return;
            }
            start = end;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    // Fused: the compression layer may poll once more after the end.
    let mut resp = Body::from_stream(futures_util::StreamExt::fuse(stream)).into_response();
    attachment(&mut resp, "text/csv; charset=utf-8", &name.with_ext("csv"));
    Ok(resp)
}
