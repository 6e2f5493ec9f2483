//! Gzip for answers held whole in memory (pages, fragments, GraphQL JSON), with one
//! compressor per worker thread that is reset between answers.
//!
//! tower-http's compression layer makes a new compressor for every answer: zlib sets up
//! about 300 KB of tables and frees them again each time, which was a fifth of a signed-in
//! page's cost (measured with perf at 1,000 pages a second). Resetting a kept compressor
//! only clears its hash table. Answers whose size is not known in advance (the streamed
//! CSV export) still go through tower-http's layer, which sits outside this one and leaves
//! an answer alone once it has a `Content-Encoding`.

use std::cell::RefCell;

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use flate2::{Compress, Compression, FlushCompress, Status};

/// Below this an answer is sent as it is (the gzip header and trailer alone are 18 bytes).
const MIN_BYTES: u64 = 1024;
/// Above this the answer is left to the streaming layer rather than held twice here.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Whether the client takes gzip: a `gzip` (or `x-gzip`) coding, or `*`, whose quality is
/// not zero.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let named = coding.eq_ignore_ascii_case("gzip")
                || coding.eq_ignore_ascii_case("x-gzip")
                || coding == "*";
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// Whether an answer of this type should be compressed at all (an XLSX is a zip already).
fn compressible(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    !headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/vnd.openxmlformats"))
}

/// `input` as a gzip member, written with this thread's compressor.
pub fn gzip(input: &[u8]) -> Vec<u8> {
    COMPRESSOR
        .with(|cell| {
            let mut slot = cell.borrow_mut();
            let compressor =
                slot.get_or_insert_with(|| Compress::new_gzip(Compression::fast(), 15));
            // Also after an answer that stopped half way (a panic in a caller): a reset
            // compressor starts a new member whatever it did before.
            compressor.reset();
            let mut out = Vec::with_capacity(input.len() / 4 + 64);
            let start = compressor.total_in();
            loop {
                let read = (compressor.total_in() - start) as usize;
                if out.len() == out.capacity() {
                    out.reserve(input.len() / 8 + 64);
                }
                match compressor.compress_vec(&input[read..], &mut out, FlushCompress::Finish) {
                    Ok(Status::StreamEnd) => break,
                    Ok(Status::Ok | Status::BufError) => {}
                    // Only a misuse of the stream can fail; it is made anew next time.
                    Err(e) => {
                        tracing::error!(error = %e, "gzip failed");
                        *slot = None;
                        return Err(());
                    }
                }
            }
            Ok(out)
        })
        .unwrap_or_else(|()| {
            // Never reached in practice; a fresh one-off compressor gives the same bytes.
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
            let _ = enc.write_all(input);
            enc.finish().unwrap_or_default()
        })
}

/// Compresses answers of known size between [`MIN_BYTES`] and [`MAX_BYTES`] for clients
/// that take gzip.
pub async fn compress_whole(req: Request, next: Next) -> Response {
    let wanted = accepts_gzip(req.headers());
    let resp = next.run(req).await;
    if !wanted || !compressible(resp.headers()) {
        return resp;
    }
    let Some(size) = resp.body().size_hint().exact() else {
        return resp;
    };
    if !(MIN_BYTES..=MAX_BYTES).contains(&size) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // A body of known size is in memory already; this only gathers its pieces.
    let bytes = match axum::body::to_bytes(body, MAX_BYTES as usize).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "an answer's body failed while being compressed");
            return Response::from_parts(parts, Body::from(axum::body::Bytes::new()));
        }
    };
    let packed = gzip(&bytes);
    let h = &mut parts.headers;
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(packed.len()));
    h.remove(header::ACCEPT_RANGES);
    h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(packed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn the_kept_compressor_writes_whole_members_one_after_another() {
        let page: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("<tr><td>{}</td></tr>", i % 977).into_bytes())
            .collect();
        let small = b"hello hello hello hello".to_vec();
        for input in [&page, &small, &Vec::new(), &page] {
            let packed = gzip(input);
            assert_eq!(&gunzip(&packed), input);
        }
        assert!(gzip(&page).len() < page.len() / 5, "it compresses");
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&m)
        };
        assert!(h("gzip"));
        assert!(h("br, GZIP;q=0.5"));
        assert!(h("deflate, *"));
        assert!(h("x-gzip"));
        assert!(!h("gzip;q=0"));
        assert!(!h("gzip; q=0.0, br"));
        assert!(!h("br, deflate"));
        assert!(!h("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
