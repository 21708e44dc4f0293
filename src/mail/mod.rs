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

/// What the mail footer says and a receipt file must not (a file cannot be replied to).
const NO_REPLY: &str = "请勿直接回复";

/// The footer line of a plain-text message (`（本邮件由…）`), where the contact goes above.
fn is_footer(line: &str) -> bool {
    line.starts_with("（本邮件")
}

/// The plain text of a message to an agency with the office's contact line
/// (`OfficeConfig::contact_line`) above the footer, once.
pub fn with_contact(body: &str, contact: &str) -> String {
    if body.contains(contact) {
        return body.to_string();
    }
    let lines: Vec<&str> = body.lines().collect();
    let mut out = String::with_capacity(body.len() + contact.len() + 2);
    match lines.iter().rposition(|l| is_footer(l)) {
        Some(footer) => {
            for (i, line) in lines.iter().enumerate() {
                if i == footer {
                    out.push_str(contact);
                    out.push('\n');
                }
                out.push_str(line);
                out.push('\n');
            }
        }
        None => {
            out.push_str(body.trim_end());
            out.push_str("\n\n");
            out.push_str(contact);
            out.push('\n');
        }
    }
    out
}

/// The HTML part of a message to an agency with the contact line before its end.
pub fn with_contact_html(html: &str, contact: &str) -> String {
    let escaped = contact
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if html.contains(&escaped) {
        return html.to_string();
    }
    let at = html
        .rfind("<p style=\"color:#888")
        .or_else(|| html.rfind("</body>"))
        .unwrap_or(html.len());
    format!("{}<p>{escaped}</p>{}", &html[..at], &html[at..])
}

/// The text of a receipt file: the mail footer ("本邮件…请勿直接回复") left out, since a
/// file is not a mail, and the contact line at the end, once.
pub fn receipt_text(body: &str, contact: &str) -> String {
    let mut out: String = body
        .lines()
        .filter(|l| !l.contains(NO_REPLY))
        .map(|l| format!("{l}\n"))
        .collect();
    if !out.contains(contact) {
        out = format!("{}\n\n{contact}\n", out.trim_end());
    }
    out
}

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
