//! Feedback to agencies, in Chinese: rendering, and delivery from the outbox.
//!
//! Messages are rendered when the outcome is stored and queued in the same transaction
//! (`store::OutboxMessage`), so a crash never loses one and a replay never queues one twice.
//! Delivery is a separate loop over the outbox: without `[mail.smtp]` it writes `.eml`
//! files to `data_dir/outbox/`.

pub mod render;
pub mod spool;

pub use render::{Outcome, render};
