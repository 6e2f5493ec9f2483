//! Outgoing mail: lettre over SMTP in production, `.eml` files in `DATA_DIR/outbox` in
//! demo mode (listed and readable by admins). Messages have an HTML and a plain-text part,
//! both rendered from maud templates in [`templates`].

pub mod outbox;
pub mod templates;

pub use outbox::{Outbox, OutboxEntry, OutboxPage, plain_text_part};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpConfig};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("could not send: {0}")]
    Send(String),
}

/// A rendered message.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Files attached after the two text parts.
    pub attachments: Vec<MailAttachment>,
    /// A one-click unsubscribe address (RFC 8058): sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub unsubscribe_url: Option<String>,
}

/// A file attached to a mail.
#[derive(Clone)]
pub struct MailAttachment {
    pub file_name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for MailAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailAttachment")
            .field("file_name", &self.file_name)
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// `List-Unsubscribe: <https://…>`.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

enum Transport {
    Outbox {
        dir: PathBuf,
    },
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        server: String,
        /// The deadline of the whole exchange.
        timeout: Duration,
    },
}

/// Files `message` in the outbox as `<random>.eml`: written under a hidden temporary name
/// and renamed, so a reader (the outbox page, a script watching the folder) sees a whole
/// message or none, never a file still being written.
async fn file_in_outbox(dir: &Path, message: &Message) -> std::io::Result<()> {
    let id = format!("{:032x}", rand::random::<u128>());
    let (partial, done) = (
        dir.join(format!(".{id}.tmp")),
        dir.join(format!("{id}.eml")),
    );
    let written = async {
        tokio::fs::write(&partial, message.formatted()).await?;
        tokio::fs::rename(&partial, &done).await
    }
    .await;
    if written.is_err() {
        // A full disk leaves nothing half-written behind.
        let _ = tokio::fs::remove_file(&partial).await;
    }
    written
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    bcc: Vec<Mailbox>,
    /// Mails sent (or filed) and mails not confirmed sent, for `/metrics`.
    sent: AtomicU64,
    failed: AtomicU64,
}

/// How many mails went out and how many did not, since start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailCounts {
    pub sent: u64,
    pub failed: u64,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.transport {
            Transport::Outbox { dir, .. } => write!(f, "Mailer(outbox {})", dir.display()),
            Transport::Smtp { server, .. } => write!(f, "Mailer(smtp {server})"),
        }
    }
}

fn smtp_transport(c: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let builder = if !c.use_tls {
        // Plain SMTP: only for relays on a trusted network (and the tests' local server).
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.server)
    } else if c.port == 465 {
        AsyncSmtpTransport::<Tokio1Executor>::relay(&c.server)
            .map_err(|e| MailError::Build(e.to_string()))?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.server)
            .map_err(|e| MailError::Build(e.to_string()))?
    };
    let mut builder = builder.port(c.port).timeout(Some(c.timeout));
    if let (Some(user), Some(pw)) = (&c.username, &c.password) {
        builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_owned()));
    }
    Ok(builder.build())
}

/// Connects to the configured SMTP server and says EHLO (STARTTLS and the login when
/// configured), sending nothing: the preflight's mail check.
pub async fn inspect(config: &Config) -> Vec<crate::checks::Finding> {
    use crate::checks::{Finding, Verdict};
    let Some(c) = &config.smtp else {
        return vec![Finding::new(
            "mail",
            "SMTP",
            Verdict::Skip,
            "no SMTP_SERVER: mail is kept in DATA_DIR/outbox (the demo)",
        )];
    };
    let started = std::time::Instant::now();
    let outcome = match smtp_transport(c) {
        Ok(t) => tokio::time::timeout(c.timeout, t.test_connection())
            .await
            .map_err(|_| format!("no answer within {:?} (SMTP_TIMEOUT)", c.timeout))
            .and_then(|r| r.map_err(|e| e.to_string())),
        Err(e) => Err(e.to_string()),
    };
    let at = format!(
        "{}:{} ({})",
        c.server,
        c.port,
        if c.use_tls { "TLS" } else { "plain" }
    );
    vec![match outcome {
        Ok(true) => Finding::new(
            "mail",
            "SMTP connect and EHLO",
            Verdict::Go,
            format!("{at} in {} ms", started.elapsed().as_millis()),
        ),
        Ok(false) => Finding::new(
            "mail",
            "SMTP connect and EHLO",
            Verdict::NoGo,
            format!("{at}: the server did not accept"),
        ),
        Err(e) => Finding::new(
            "mail",
            "SMTP connect and EHLO",
            Verdict::NoGo,
            format!("{at}: {e}"),
        ),
    }]
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        let from_text = config
            .email_from
            .clone()
            .unwrap_or_else(|| "Customer Portal <portal@localhost>".to_owned());
        let from: Mailbox = from_text
            .parse()
            .map_err(|e| anyhow::anyhow!("EMAIL_FROM {from_text:?} is not an address: {e}"))?;
        // Every address of the list gets the copy, as the old portal's comma list did.
        let bcc = config
            .email_bcc
            .iter()
            .map(|b| {
                b.parse::<Mailbox>()
                    .map_err(|e| anyhow::anyhow!("EMAIL_BCC {b:?} is not an address: {e}"))
            })
            .collect::<anyhow::Result<Vec<Mailbox>>>()?;
        let transport = match &config.smtp {
            Some(c) => Transport::Smtp {
                transport: smtp_transport(c)?,
                server: format!("{}:{}", c.server, c.port),
                timeout: c.timeout,
            },
            None => {
                let dir = outbox_dir(&config.data_dir);
                std::fs::create_dir_all(&dir)?;
                Transport::Outbox { dir }
            }
        };
        Ok(Mailer {
            transport,
            from,
            bcc,
            sent: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
    }

    pub fn counts(&self) -> MailCounts {
        MailCounts {
            sent: self.sent.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// The folder mail is written to instead of being sent (demo mode), if any.
    pub fn outbox(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Outbox { dir, .. } => Some(dir),
            Transport::Smtp { .. } => None,
        }
    }

    /// Connects to the SMTP server and says EHLO (STARTTLS and the login when configured),
    /// within `SMTP_TIMEOUT`, sending nothing: whether mail can go out now. Always fine
    /// for the demo's outbox.
    pub async fn check_connection(&self) -> Result<(), String> {
        let Transport::Smtp {
            transport,
            server,
            timeout,
        } = &self.transport
        else {
            return Ok(());
        };
        match tokio::time::timeout(*timeout, transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(format!("{server} did not accept the connection")),
            Ok(Err(e)) => Err(format!("{server}: {e}")),
            Err(_) => Err(format!("{server} did not answer within {timeout:?}")),
        }
    }

    /// The outbox, to read what was filed there (demo mode), if mail is kept in one.
    pub fn outbox_reader(&self) -> Option<Outbox> {
        self.outbox().map(|dir| Outbox::new(dir.to_owned()))
    }

    pub fn build(&self, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Address(e.to_string()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        for bcc in &self.bcc {
            builder = builder.bcc(bcc.clone());
        }
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .header(ListUnsubscribe(url.clone()))
                .header(ListUnsubscribePost);
        }
        let text = MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone());
        let body = if mail.attachments.is_empty() {
            text
        } else {
            let mut mixed = MultiPart::mixed().multipart(text);
            for a in &mail.attachments {
                let kind = ContentType::parse(a.content_type)
                    .map_err(|e| MailError::Build(e.to_string()))?;
                mixed = mixed
                    .singlepart(Attachment::new(a.file_name.clone()).body(a.body.clone(), kind));
            }
            mixed
        };
        builder
            .multipart(body)
            .map_err(|e| MailError::Build(e.to_string()))
    }

    /// Sends (or, in demo mode, files) the message. Never logs its content.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        let started = std::time::Instant::now();
        let result = match &self.transport {
            Transport::Outbox { dir } => file_in_outbox(dir, &message)
                .await
                .map_err(|e| MailError::Send(format!("outbox: {e}"))),
            Transport::Smtp {
                transport, timeout, ..
            } => match tokio::time::timeout(*timeout, transport.send(message)).await {
                Ok(sent) => sent.map(|_| ()).map_err(|e| MailError::Send(e.to_string())),
                Err(_) => Err(MailError::Send(format!(
                    "the mail server did not complete the exchange within {timeout:?}"
                ))),
            },
        };
        let counter = if result.is_ok() {
            &self.sent
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match &result {
            Ok(()) => {
                tracing::info!(to = %mail.to, subject = %mail.subject, elapsed_ms = started.elapsed().as_millis() as u64, "mail sent")
            }
            Err(e) => tracing::warn!(to = %mail.to, error = %e, "mail not sent"),
        }
        result
    }
}

pub fn outbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message::builder()
            .from("portal@example.com".parse().unwrap())
            .to("someone@example.com".parse().unwrap())
            .subject("Reset")
            .body("a link".to_owned())
            .unwrap()
    }

    /// A filed message is one whole `.eml` under its final name, nothing else left
    /// beside it; a write that fails leaves nothing behind either.
    #[tokio::test]
    async fn a_filed_message_is_whole_under_its_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let m = message();
        file_in_outbox(dir.path(), &m).await.unwrap();
        file_in_outbox(dir.path(), &m).await.unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        for name in &names {
            assert!(outbox::plausible_name(name), "{name}");
            let body = std::fs::read(dir.path().join(name)).unwrap();
            assert_eq!(body, m.formatted());
        }
        let gone = dir.path().join("gone");
        assert!(file_in_outbox(&gone, &m).await.is_err());
        assert!(!gone.exists());
    }
}
