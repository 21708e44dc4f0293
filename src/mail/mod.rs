//! Feedback to agencies, in Chinese: rendering, and delivery from the outbox.
//!
//! Messages are rendered when the outcome is stored and queued in the same transaction
//! (`store::OutboxMessage`), so a crash never loses one and a replay never queues one twice.
//! Delivery is a separate loop over the outbox: SMTP when `[mail.smtp]` is configured,
//! otherwise `.eml` files in `data_dir/outbox/`.

pub mod html;
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
pub fn build_message(
    from: &str,
    to: &str,
    subject: &str,
    text: &str,
    html: Option<&str>,
) -> anyhow::Result<Message> {
    let builder = Message::builder()
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
