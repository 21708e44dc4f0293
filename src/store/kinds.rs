//! The closed sets of words the database stores: a submission's state, its verdict, an
//! outbox message's kind and its delivery state.
//!
//! Why enums: these words used to be string literals compared in ingest, status, export and
//! the store, where a typo compiled and silently matched nothing. Each enum maps to exactly the
//! strings already in the database (`ToSql`/`FromSql`), so no migration is needed, and an
//! unknown word read back is a clear error instead of a wrong branch.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Defines a stored word set: the enum, its database string, and its SQL and serde mappings.
macro_rules! stored_words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $word:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The word as the database and the JSON output spell it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The variant a stored word names, if any.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Reads as the stored word, so `Option<$name>::as_deref()` compares with a `&str`.
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let word = value.as_str()?;
                $name::parse(word).ok_or_else(|| {
                    FromSqlError::Other(
                        format!(
                            "unknown {} {word:?} in the database: was it written by a newer \
                             nianbao? Run that version or fix the row",
                            stringify!($name)
                        )
                        .into(),
                    )
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

stored_words! {
    /// Where a submission is in its life (`submissions.state`).
    SubmissionState {
        /// Copied into the archive and recorded; not checked yet (left by a crash or a stop).
        Archived => "archived",
        /// Checked; findings and cells stored.
        Checked => "checked",
        /// The same bytes as an earlier checked submission of the same agency.
        Duplicate => "duplicate",
        /// Could not be checked at all; the admin was told.
        Failed => "failed",
    }
}

stored_words! {
    /// The outcome of a check (`submissions.verdict`).
    Verdict {
        /// No errors: the report is accepted.
        Accepted => "accepted",
        /// At least one error: the agency must fix and resubmit.
        Rejected => "rejected",
    }
}

impl Verdict {
    /// The verdict a check result earns.
    pub fn of(accepted: bool) -> Verdict {
        if accepted {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        }
    }
}

stored_words! {
    /// What an outbox message is (`outbox.kind`); part of its idempotency key.
    MessageKind {
        /// The check's feedback to the agency.
        Feedback => "feedback",
        /// The copy of the feedback for the admin.
        Admin => "admin",
        /// The receipt file written into the agency's folder (not an email).
        Receipt => "receipt",
        /// The reply to a duplicate submission.
        Duplicate => "duplicate",
        /// A notice to the admin about a problem (refused file, failed check, failed send).
        Notice => "notice",
        /// The admin's periodic digest.
        Digest => "digest",
        /// A reminder (催报) to an agency that has not submitted (the `deadlines` module).
        Reminder => "reminder",
        /// An officer's review decision sent to the agency (人工复核).
        Review => "review",
        /// "已收到，正在审核": the answer while the feedback is held for review.
        Received => "received",
    }
}

stored_words! {
    /// Where an outbox message is in its delivery (`outbox.state`).
    OutboxState {
        /// Waiting to be sent (or retried).
        Pending => "pending",
        /// Delivered.
        Sent => "sent",
        /// Given up on; the admin was told.
        Failed => "failed",
        /// Held for an officer's review (`[review] hold`): sent once released.
        Held => "held",
        /// Sent, but the server's answer to the message never came (`mail::smtp`): it may
        /// have been delivered; never sent again.
        Unconfirmed => "unconfirmed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_through_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for kind in [
            MessageKind::Feedback,
            MessageKind::Admin,
            MessageKind::Receipt,
            MessageKind::Duplicate,
            MessageKind::Notice,
            MessageKind::Digest,
            MessageKind::Reminder,
            MessageKind::Review,
            MessageKind::Received,
        ] {
            let text: String = conn.query_row("SELECT ?1", [kind], |r| r.get(0)).unwrap();
            assert_eq!(text, kind.as_str());
            let back: MessageKind = conn.query_row("SELECT ?1", [text], |r| r.get(0)).unwrap();
            assert_eq!(back, kind);
        }
        let state: SubmissionState = conn
            .query_row("SELECT 'duplicate'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(state, SubmissionState::Duplicate);
        for outbox in [
            OutboxState::Pending,
            OutboxState::Sent,
            OutboxState::Failed,
            OutboxState::Held,
            OutboxState::Unconfirmed,
        ] {
            let back: OutboxState = conn
                .query_row("SELECT ?1", [outbox.as_str()], |r| r.get(0))
                .unwrap();
            assert_eq!(back, outbox);
        }
    }

    #[test]
    fn an_unknown_word_is_an_error_not_a_default() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let err = conn
            .query_row("SELECT 'maybe'", [], |r| r.get::<_, Verdict>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown Verdict \"maybe\""),
            "{err}"
        );
    }
}
