//! Feedback to agencies, in Chinese: rendering, and delivery from the outbox.
//!
//! Messages are rendered when the outcome is stored and queued in the same transaction
//! (`store::OutboxMessage`), so a crash never loses one and a replay never queues one twice;
//! the HTML part of a feedback is rendered when it is sent, from the stored outcome
//! (`deferred`).
//! Delivery is a separate loop over the outbox: SMTP when `[mail.smtp]` is configured,
//! otherwise `.eml` files in `data_dir/outbox/`.

pub mod deferred;
pub mod html;
pub mod items;
pub mod render;
pub mod smtp;
pub mod spool;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{MultiPart, SinglePart};

pub use render::{Outcome, render};

/// A message as sent: UTF-8 plain text, and HTML as the alternative when there is one.
/// Addresses and names come from the configuration; subjects are cleaned of control
/// characters by the renderer, and lettre encodes them (RFC 2047).
/// The Message-ID of the message queued under `key`: the same for every attempt, so that
/// the rare second delivery after a crash (killed between the server's acceptance and the
/// commit that records it) is recognisably the same message, not a new one.
pub fn message_id(key: &str) -> String {
    format!(
        "<{}@nianbao>",
        &crate::check::sha256_hex(key.as_bytes())[..32]
    )
}

pub fn build_message(
    from: &str,
    to: &str,
    subject: &str,
    text: &str,
    html: Option<&str>,
    key: &str,
) -> anyhow::Result<Message> {
    let builder = Message::builder()
        .message_id(Some(message_id(key)))
        .from(from.parse()?)
        .to(to.parse()?)
        .subject(render::clean(subject));
    let message = match html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            text.to_string(),
            html.to_string(),
        ))?,
        None => builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text.to_string()),
        )?,
    };
    Ok(message)
}
