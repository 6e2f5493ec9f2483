//! `/inventory/export.xlsx` and `.csv`: exactly the rows the view selects, in its order,
//! from the inventory service with a grant from the same access rule as the grid.

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

/// What one blocking step of a streamed export wrote.
enum Step {
    More(Bytes),
    Last(Bytes),
}

/// Chunks written ahead of the client at most.
const AHEAD: usize = 4;

/// A body of what `step` writes, one blocking call per chunk, at most [`AHEAD`] chunks
/// ahead of the client: writing the next chunk overlaps compressing and sending this
/// one, and memory holds those chunks, not the file. The writer waits for room without
/// holding a thread and stops when the client goes. A failure ends the body with an
/// error, so the client sees a broken download rather than a short file.
fn streamed<S, F>(what: &'static str, state: S, step: F) -> Body
where
    S: Send + 'static,
    F: Fn(&mut S) -> std::io::Result<Step> + Copy + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(AHEAD);
    let started = std::time::Instant::now();
    tokio::spawn(async move {
        let mut state = state;
        loop {
            let written = tokio::task::spawn_blocking(move || {
                let r = step(&mut state);
                (state, r)
            })
            .await;
            let (back, result) = match written {
                Ok(w) => w,
                Err(e) => {
                    // A panic while writing: the body ends in an error, not quietly short.
                    tracing::error!(error = %e, export = what, "an export chunk could not be written");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            state = back;
            let (chunk, last) = match result {
                Ok(Step::More(b)) => (b, false),
                Ok(Step::Last(b)) => (b, true),
                Err(e) => {
                    tracing::error!(error = %e, export = what, "an export chunk could not be written");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            if (!chunk.is_empty() || last) && tx.send(Ok(chunk)).await.is_err() {
                tracing::info!(export = what, "the client left before the end");
                return;
            }
            if last {
                tracing::info!(
                    export = what,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "export written"
                );
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    // Fused: the compression layer may poll once more after the end.
    Body::from_stream(futures_util::StreamExt::fuse(stream))
}

/// An export under way: the view's rows, how many are written, and the format's own
/// writer state (`W`) between steps.
struct Job<W> {
    snapshot: std::sync::Arc<crate::inventory::Snapshot>,
    order: Vec<u32>,
    today: time::Date,
    done: usize,
    writer: Option<W>,
}

impl<W> Job<W> {
    /// The next `rows` rows to write (fewer at the end), counted as written.
    fn next(&mut self, rows: usize) -> std::ops::Range<usize> {
        let range = self.done..(self.done + rows).min(self.order.len());
        self.done = range.end;
        range
    }

    fn finished(&self) -> bool {
        self.done == self.order.len()
    }
}

/// A step's chunk: the last one once every row is written.
fn step_of<W>(job: &Job<W>, chunk: Vec<u8>) -> Step {
    if job.finished() {
        Step::Last(Bytes::from(chunk))
    } else {
        Step::More(Bytes::from(chunk))
    }
}

/// Rows per XLSX step.
const XLSX_CHUNK: usize = 5_000;

fn xlsx_step(job: &mut Job<export::xlsx::XlsxStream>) -> std::io::Result<Step> {
    let mut writer = match job.writer.take() {
        Some(w) => w,
        None => export::xlsx::XlsxStream::start(
            &job.snapshot.rows,
            job.order.len(),
            job.snapshot.multi_customer,
            job.today,
        )?,
    };
    let range = job.next(XLSX_CHUNK);
    writer.write_rows(&job.snapshot.rows, &job.order[range])?;
    let mut chunk = writer.take();
    if job.finished() {
        chunk.extend(writer.finish(&job.snapshot.rows)?);
    } else {
        job.writer = Some(writer);
    }
    Ok(step_of(job, chunk))
}

/// Rows per CSV step.
const CSV_CHUNK: usize = 2_000;

fn csv_step(job: &mut Job<()>) -> std::io::Result<Step> {
    let mut chunk = if job.done == 0 {
        export::csv::header(job.snapshot.multi_customer)
    } else {
        String::new()
    };
    let range = job.next(CSV_CHUNK);
    chunk.push_str(&export::csv::rows(
        &job.snapshot.rows,
        &job.order[range],
        job.snapshot.multi_customer,
        job.today,
    ));
    Ok(step_of(job, chunk.into_bytes()))
}

/// The view's rows as a download written by `step`, named `Inventory_…<ext>`.
async fn download<W: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    view: View,
    (ext, content_type): (&'static str, &'static str),
    step: fn(&mut Job<W>) -> std::io::Result<Step>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let (snapshot, order, name) = export_rows(state, viewer, &view).await?;
    tracing::info!(rows = order.len(), format = ext, "export");
    let job = Job {
        snapshot,
        order,
        today: super::today(state),
        done: 0,
        writer: None,
    };
    let mut resp = streamed(ext, job, step).into_response();
    attachment(&mut resp, content_type, &name.with_ext(ext));
    Ok(resp)
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    InventoryReader(viewer): InventoryReader,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let xlsx = (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    download(&state, &viewer, view, xlsx, xlsx_step).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    InventoryReader(viewer): InventoryReader,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    download(
        &state,
        &viewer,
        view,
        ("csv", "text/csv; charset=utf-8"),
        csv_step,
    )
    .await
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_streamed_body_carries_every_chunk_then_ends() {
        let body = streamed("test", 0u8, |n: &mut u8| {
            *n += 1;
            let chunk = Bytes::from(format!("chunk {n};"));
            Ok(if *n < 3 {
                Step::More(chunk)
            } else {
                Step::Last(chunk)
            })
        });
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(all, "chunk 1;chunk 2;chunk 3;");
    }

    /// A download cut short by a failure must not look whole: the body ends in an error
    /// (hyper then breaks the connection) after what was written.
    #[tokio::test]
    async fn a_failing_or_panicking_step_ends_the_body_in_an_error() {
        let failing = streamed("test", 0u8, |n: &mut u8| {
            *n += 1;
            if *n == 1 {
                Ok(Step::More(Bytes::from_static(b"first")))
            } else {
                Err(std::io::Error::other("the disk is full"))
            }
        });
        let panicking = streamed("test", 0u8, |n: &mut u8| {
            *n += 1;
            if *n == 1 {
                Ok(Step::More(Bytes::from_static(b"first")))
            } else {
                panic!("a bug while writing")
            }
        });
        for mut body in [failing, panicking] {
            let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(first, "first");
            assert!(body.frame().await.unwrap().is_err());
        }
    }
}
