//! The demo outbox: in demo mode mail is written to files instead of being sent, and
//! admins read it here. Empty (and `outboxEnabled` false) when mail goes over SMTP.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{coded_error, codes, require_admin};
use crate::mail::{Mailer, plain_text_part};

#[derive(Default)]
pub struct OutboxQuery;

/// One mail kept in the outbox.
#[derive(SimpleObject)]
pub struct OutboxEntry {
    /// The message's file name: pass it to `outboxMessage`.
    pub file: String,
    pub to: String,
    pub subject: String,
    pub written: OffsetDateTime,
}

#[derive(SimpleObject)]
pub struct OutboxMessage {
    pub file: String,
    /// The plain-text part.
    pub text: String,
    /// The whole message as written (headers and every part).
    pub raw: String,
}

fn unreadable(e: std::io::Error) -> async_graphql::Error {
    tracing::error!(error = %e, "outbox unreadable");
    coded_error(codes::INTERNAL, "the outbox could not be read")
}

#[Object]
impl OutboxQuery {
    /// True in demo mode, when mail is kept in the outbox instead of being sent. Admins only.
    async fn outbox_enabled(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        require_admin(ctx)?;
        Ok(ctx.data::<Arc<Mailer>>()?.outbox().is_some())
    }

    /// The outbox's mail, newest first, `first` at a time (at most 200) after the message
    /// `after` (a `file`). Admins only.
    async fn outbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 200)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<Vec<OutboxEntry>> {
        require_admin(ctx)?;
        let Some(outbox) = ctx.data::<Arc<Mailer>>()?.outbox_reader() else {
            return Ok(Vec::new());
        };
        let page = outbox
            .list(first.max(1) as usize, after)
            .await
            .map_err(unreadable)?;
        Ok(page
            .entries
            .into_iter()
            .map(|e| OutboxEntry {
                file: e.file,
                to: e.to,
                subject: e.subject,
                written: e.modified,
            })
            .collect())
    }

    /// One outbox message, or null when there is none by that name. Admins only.
    async fn outbox_message(
        &self,
        ctx: &Context<'_>,
        file: String,
    ) -> async_graphql::Result<Option<OutboxMessage>> {
        require_admin(ctx)?;
        let Some(outbox) = ctx.data::<Arc<Mailer>>()?.outbox_reader() else {
            return Ok(None);
        };
        let raw = outbox.read(&file).await.map_err(unreadable)?;
        Ok(raw.map(|raw| OutboxMessage {
            file,
            text: plain_text_part(&raw),
            raw,
        }))
    }
}
