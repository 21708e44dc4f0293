//! One transaction for a batch of files (issue 17, group commit): their records and their
//! outcomes are written together, one durable commit for the batch instead of one per file
//! and one more for the records. Either all of a batch is there after a crash, or none of
//! it: the files are then still in the inbox (they leave it only after the commit) and are
//! taken again, so each is stored exactly once.

use rusqlite::Transaction;

use super::Cached as _;

use super::{
    NewSubmission, OutboxMessage, SUBMISSION_COLUMNS, Store, Submission, duplicate_in, original_in,
    outcome_in, record_in, review, submission,
};
use crate::check::CheckResult;

/// An open IMMEDIATE transaction on the store (see the module docs). Dropped without
/// [`Batch::commit`], it rolls back.
pub struct Batch<'a> {
    tx: Transaction<'a>,
}

impl Store {
    /// Starts a batch: nobody else writes until it is committed or dropped.
    pub fn batch(&mut self) -> rusqlite::Result<Batch<'_>> {
        Ok(Batch {
            tx: self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
        })
    }
}

impl Batch<'_> {
    /// The batch's connection, for reads that must see what the batch wrote so far.
    pub fn connection(&self) -> &rusqlite::Connection {
        &self.tx
    }

    /// [`Store::record_all`] in the batch.
    pub fn record_all(
        &self,
        news: &[NewSubmission<'_>],
        receipt_year: i32,
    ) -> rusqlite::Result<Vec<Submission>> {
        record_in(&self.tx, news, receipt_year)?
            .into_iter()
            .map(|id| {
                self.tx.cached_row(
                    &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = ?1"),
                    [id],
                    submission,
                )
            })
            .collect()
    }

    /// [`Store::original_of`] in the batch: sees the files stored earlier in it.
    pub fn original_of(
        &self,
        agency_folder: Option<&str>,
        sha256: &str,
        before_id: i64,
    ) -> rusqlite::Result<Option<Submission>> {
        original_in(&self.tx, agency_folder, sha256, before_id)
    }

    /// Whether the submission's feedback is held for review now.
    pub fn is_held(&self, id: i64) -> rusqlite::Result<bool> {
        review::is_held(&self.tx, id)
    }

    /// [`Store::store_outcome_held`] in the batch.
    #[allow(clippy::too_many_arguments)]
    pub fn store_outcome_held(
        &self,
        id: i64,
        result: &CheckResult,
        check_ms: u64,
        checked_at: &str,
        messages: &[OutboxMessage],
        receipt: &str,
        hold: Option<&review::Hold<'_>>,
    ) -> rusqlite::Result<()> {
        outcome_in(
            &self.tx, id, result, check_ms, checked_at, messages, receipt, hold,
        )
    }

    /// [`Store::store_duplicate`] in the batch.
    pub fn store_duplicate(
        &self,
        id: i64,
        original: &Submission,
        checked_at: &str,
        messages: &[OutboxMessage],
        receipt: &str,
    ) -> rusqlite::Result<()> {
        duplicate_in(&self.tx, id, original, checked_at, messages, receipt)
    }

    /// The batch's one durable commit.
    pub fn commit(self) -> rusqlite::Result<()> {
        self.tx.commit()
    }
}
