//! The demo outbox: in demo mode mail is written to `.eml` files instead of being sent,
//! and admins read them. Reading happens off the async runtime (a listing stats every
//! file, a message may carry a 50,000-row report), a listing reads only each message's
//! headers, and it comes a page at a time, newest first.

use std::io::Read;
use std::path::{Path, PathBuf};

use mail_parser::MessageParser;

/// The most files one listing looks at (the newest are kept when there are more).
pub const MAX_SCANNED: usize = 20_000;
/// The most messages one listing returns.
pub const MAX_PAGE: usize = 200;
/// How much of a message a listing reads: its headers end long before this.
const HEADER_BYTES: u64 = 32 * 1024;
/// The largest message shown whole.
const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// One message in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub file: String,
    pub modified: time::OffsetDateTime,
    pub to: String,
    pub subject: String,
}

/// A page of the outbox, newest first; `next` is the file to pass as `after`.
#[derive(Debug, Clone, Default)]
pub struct OutboxPage {
    pub entries: Vec<OutboxEntry>,
    pub next: Option<String>,
}

/// The outbox folder.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Up to `first` messages (at most [`MAX_PAGE`]) after the file `after`, newest first.
    pub async fn list(&self, first: usize, after: Option<String>) -> std::io::Result<OutboxPage> {
        let dir = self.dir.clone();
        let first = first.clamp(1, MAX_PAGE);
        tokio::task::spawn_blocking(move || list(&dir, first, after.as_deref()))
            .await
            .map_err(std::io::Error::other)?
    }

    /// One message as written, if `file` names a message of the outbox (no path tricks).
    pub async fn read(&self, file: &str) -> std::io::Result<Option<String>> {
        if !plausible_name(file) {
            return Ok(None);
        }
        let path = self.dir.join(file);
        tokio::task::spawn_blocking(move || {
            let f = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut bytes = Vec::new();
            f.take(MAX_MESSAGE_BYTES).read_to_end(&mut bytes)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

pub(super) fn plausible_name(file: &str) -> bool {
    file.ends_with(".eml")
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        && !file.contains("..")
}

fn list(dir: &Path, first: usize, after: Option<&str>) -> std::io::Result<OutboxPage> {
    if !dir.exists() {
        return Ok(OutboxPage::default());
    }
    let mut files: Vec<(std::time::SystemTime, String)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !plausible_name(&name) {
            continue;
        }
        let modified = entry
            .metadata()?
            .modified()
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        files.push((modified, name));
        if files.len() >= 2 * MAX_SCANNED {
            keep_newest(&mut files);
        }
    }
    keep_newest(&mut files);
    let start = match after {
        Some(after) => files
            .iter()
            .position(|(_, f)| f == after)
            .map_or(files.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = files.iter().skip(start).take(first + 1).collect();
    let more = page.len() > first;
    let mut entries = Vec::with_capacity(first);
    for (modified, file) in page.into_iter().take(first) {
        let (to, subject) = headers(&dir.join(file)).unwrap_or_default();
        entries.push(OutboxEntry {
            file: file.clone(),
            modified: time::OffsetDateTime::from(*modified),
            to,
            subject,
        });
    }
    let next = more
        .then(|| entries.last().map(|e| e.file.clone()))
        .flatten();
    Ok(OutboxPage { entries, next })
}

/// Newest first (then by name, so the order is stable), at most [`MAX_SCANNED`].
fn keep_newest(files: &mut Vec<(std::time::SystemTime, String)>) {
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    files.truncate(MAX_SCANNED);
}

/// (To, Subject) of a stored message, decoded, from its first bytes only.
fn headers(path: &Path) -> std::io::Result<(String, String)> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(HEADER_BYTES)
        .read_to_end(&mut head)?;
    let Some(message) = MessageParser::new().parse_headers(&head[..]) else {
        return Ok(Default::default());
    };
    let to = message
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Ok((to, message.subject().unwrap_or_default().to_owned()))
}

/// The plain-text part of a stored message, decoded (transfer encoding and charset).
pub fn plain_text_part(raw: &str) -> String {
    MessageParser::new()
        .parse(raw.as_bytes())
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_else(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: Portal <p@example.com>\r\nTo: ann@example.com\r\nSubject: =?utf-8?q?Stock_report_=E2=80=94_Acme?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 =E2=80=94 10 parts below minimum=\r\n today.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n--b--\r\n";

    #[test]
    fn encoded_subjects_and_parts_are_read() {
        assert_eq!(
            plain_text_part(MAIL).trim_end(),
            "Café — 10 parts below minimum today."
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.eml"), MAIL).unwrap();
        assert_eq!(
            headers(&dir.path().join("a.eml")).unwrap(),
            (
                "ann@example.com".to_owned(),
                "Stock report — Acme".to_owned()
            )
        );
    }

    #[test]
    fn a_listing_pages_newest_first_and_reads_headers_only() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        for i in 0..5 {
            let path = dir.path().join(format!("m{i}.eml"));
            // A large "attachment" after the headers: a listing must not read it.
            let body = format!(
                "To: x{i}@example.com\r\nSubject: n{i}\r\n\r\n{}",
                "A".repeat(1 << 20)
            );
            std::fs::write(&path, body).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(t0 + std::time::Duration::from_secs(i))
                .unwrap();
        }
        std::fs::write(dir.path().join("../escape.eml"), "x").ok();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let first = list(dir.path(), 2, None).unwrap();
        let subjects: Vec<_> = first.entries.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["n4", "n3"]);
        assert_eq!(first.next.as_deref(), Some("m3.eml"));
        let second = list(dir.path(), 2, first.next.as_deref()).unwrap();
        assert_eq!(second.entries[0].subject, "n2");
        let last = list(dir.path(), 2, Some("m1.eml")).unwrap();
        assert_eq!(last.entries.len(), 1);
        assert_eq!(last.next, None);
        assert!(!plausible_name("../x.eml") && !plausible_name("a/b.eml"));
    }
}
