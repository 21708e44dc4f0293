//! Step 3: an archived submission is checked and its outcome stored.
//!
//! It owns reading the archived copy (and verifying its sha256), recognising duplicates,
//! running the checker (with last year's report, a panic costing only this file), and
//! storing report, cells, findings and the queued messages in one transaction.
//!
//! The work is split in three (issue 17): `check_archived` (read, verify, check; no lock,
//! nothing written), `stage` / `duplicate_messages` (the messages, rendered once the receipt
//! is known), and the store. A fresh batch is checked first and then recorded and stored in
//! one transaction (`archive::ingest_batch`); a submission left `archived` (by a crash, a
//! stop, an error) goes through `process`, one transaction of its own.
//!
//! Why the seam is here: it reads only the archive and the database, and what it produces
//! for the outside world is rows in the outbox, in the same transaction as the outcome; it
//! never sends anything itself (that is `delivery`), so a crash repeats no message.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use super::failures::{internal_error_result, test_panic_hook};
use super::{Pipeline, now_utc};
use crate::check::{CheckResult, check_bytes_with};
use crate::finding::{Finding, Location};
use crate::mail::{self, Outcome};
use crate::recovery::payload_text;
use crate::store::{MessageKind, OutboxMessage, Submission, SubmissionState, Verdict};
use crate::validate::Context;

/// An archived file to check.
pub(super) struct ToCheck<'a> {
    pub(super) sha256: &'a str,
    pub(super) size: i64,
    /// Path relative to the inbox.
    pub(super) original_name: &'a str,
    pub(super) agency_folder: Option<&'a str>,
}

impl<'a> ToCheck<'a> {
    fn of(sub: &'a Submission) -> ToCheck<'a> {
        ToCheck {
            sha256: &sub.sha256,
            size: sub.size,
            original_name: &sub.original_name,
            agency_folder: sub.agency_folder.as_deref(),
        }
    }
}

/// Which part of the daemon checks a file: an ingest worker puts scans off; the scan lane
/// (the retry task, `Pipeline::resume`) reads them, one at a time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Lane {
    Ingest,
    Scans,
}

/// What `check_archived` found.
pub(super) enum Checking {
    Checked(Box<Checked>),
    /// A scan met by an ingest worker: left `archived` for the scan lane.
    PutOff,
    /// The archived copy is missing or is not the file received (the submission fails).
    Unusable(String),
}

/// What checking an archived file gave, before anything is stored.
pub(super) struct Checked {
    pub(super) result: CheckResult,
    pub(super) check_ms: u64,
    /// The checker's panic, when it failed on this file (a bug).
    internal_error: Option<String>,
}

/// The messages of a checked file, rendered and ready to store.
pub(super) struct Staged {
    pub(super) messages: Vec<OutboxMessage>,
    hold_reason: Option<String>,
    held: Vec<OutboxMessage>,
    acks: Vec<OutboxMessage>,
}

impl Staged {
    pub(super) fn hold(&self) -> Option<crate::store::review::Hold<'_>> {
        self.hold_reason
            .as_deref()
            .map(|reason| crate::store::review::Hold {
                reason,
                held: &self.held,
                acks: &self.acks,
            })
    }
}

/// The file's own name (the last part of its path in the inbox).
fn file_name(original_name: &str) -> String {
    Path::new(original_name)
        .file_name()
        .map_or(original_name.to_string(), |n| {
            n.to_string_lossy().into_owned()
        })
}

impl Pipeline {
    /// Step 3: read, check, store the outcome and queue the messages.
    ///
    /// A submission whose archived copy is missing or is not the file received (sha256) is
    /// recorded as failed (`fail`); a panic of the checker becomes the finding
    /// `file.internal_error` and a notice to the admin. Any other error (disk, database)
    /// leaves it `archived`, for the retry.
    pub(super) fn process(&self, sub: &Submission, lane: Lane) -> anyhow::Result<()> {
        let Some(_claim) = self.claim(sub.id) else {
            // Being checked by another thread (a worker, or the retry).
            return Ok(());
        };
        // Checked by another thread since `sub` was listed (the retry lists submissions,
        // a worker checks one and lets go of it): checking it again would store nothing
        // and count it twice in the metrics.
        if self.store().state_of(sub.id)? != Some(SubmissionState::Archived) {
            return Ok(());
        }
        let _busy = self.busy("checking", format!("receipt {}", sub.receipt));
        let original =
            self.store()
                .original_of(sub.agency_folder.as_deref(), &sub.sha256, sub.id)?;
        if let Some(original) = original {
            // The first one's feedback still held for review: its verdict is not told yet.
            let held = crate::store::review::is_held(self.store().connection(), original.id)?;
            let messages = self.duplicate_messages(sub, &original, held);
            self.store()
                .store_duplicate(sub.id, &original, &now_utc(), &messages, &sub.receipt)?;
            self.metrics.committed();
            self.counted_duplicate(sub, &original);
            return Ok(());
        }
        let checked = match self.check_archived(&ToCheck::of(sub), lane)? {
            Checking::Checked(checked) => *checked,
            Checking::PutOff => {
                self.put_off(&sub.original_name);
                return Ok(());
            }
            Checking::Unusable(reason) => return self.fail(sub, &reason),
        };
        let staged = {
            let store = self.store();
            self.stage(sub, &checked, store.connection())
        };
        self.store().store_outcome_held(
            sub.id,
            &checked.result,
            checked.check_ms,
            &now_utc(),
            &staged.messages,
            &sub.receipt,
            staged.hold().as_ref(),
        )?;
        self.metrics.committed();
        self.counted_checked(sub, &checked);
        Ok(())
    }

    /// A scan left `archived` by an ingest worker: the scan lane is woken to read it.
    pub(super) fn put_off(&self, original_name: &str) {
        tracing::info!(
            file = original_name,
            "a scan: recorded, and read by OCR in the scan lane (one at a time), not by an ingest worker"
        );
        self.retry_wakeup.kick();
    }

    /// Reads the archived copy, verifies its sha256 and checks it; nothing is written and
    /// no lock is held but the store's for last year's report. `Unusable(why)` when the
    /// copy is missing or is not the file received (the submission fails, see `fail`);
    /// `PutOff` when `lane` is an ingest worker and the file is a scan.
    pub(super) fn check_archived(
        &self,
        file: &ToCheck<'_>,
        lane: Lane,
    ) -> anyhow::Result<Checking> {
        let started = Instant::now();
        let name = file_name(file.original_name);
        let limit = self.config().max_file_bytes();
        let mut internal_error = None;
        let result = if file.size as u64 > limit {
            too_large(&name, file, limit)
        } else {
            let path = self.paths.archived(file.sha256);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Checking::Unusable(format!(
                        "the archived copy {} is missing",
                        path.display()
                    )));
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot read the archived original {}", path.display())
                    });
                }
            };
            let found = crate::check::sha256_hex(&bytes);
            if found != file.sha256 {
                return Ok(Checking::Unusable(format!(
                    "the archived copy {} is not the file received: its sha256 is {found}, the recorded one {}",
                    path.display(),
                    file.sha256
                )));
            }
            // A bug in an extractor or a rule costs this file, never the worker.
            let checked = std::panic::catch_unwind(AssertUnwindSafe(|| match lane {
                Lane::Ingest => crate::extract::putting_off_scans(|| {
                    self.check(&bytes, &name, file.agency_folder)
                }),
                Lane::Scans => (self.check(&bytes, &name, file.agency_folder), false),
            }));
            match checked {
                Ok((_, true)) => return Ok(Checking::PutOff),
                Ok((result, false)) => result,
                Err(payload) => {
                    let panic = payload_text(payload.as_ref());
                    tracing::error!(file = %file.original_name, error = %panic, "the checker failed on this file (a bug); answered with file.internal_error, the admin is told");
                    internal_error = Some(panic);
                    internal_error_result(&name, file.sha256)
                }
            }
        };
        Ok(Checking::Checked(Box::new(Checked {
            result,
            check_ms: started.elapsed().as_millis() as u64,
            internal_error,
        })))
    }

    /// The answer to a duplicate of `original` (whose feedback is still held: `held`).
    pub(super) fn duplicate_messages(
        &self,
        sub: &Submission,
        original: &Submission,
        held: bool,
    ) -> Vec<OutboxMessage> {
        let folder_agency = self.agency_of_submission(sub);
        let agency = folder_agency.as_ref();
        let name = file_name(&sub.original_name);
        let (subject, body) = mail::render(
            &sub.receipt,
            agency.map(|a| a.name.as_str()),
            &name,
            &Outcome::Duplicate {
                first_receipt: &original.receipt,
                verdict: original.verdict.filter(|_| !held),
            },
        );
        let mut messages = self.messages(agency, false, &subject, &body, None);
        messages.extend(self.receipt_file(sub, &subject, &body));
        messages
    }

    /// Counts and logs a duplicate once it is stored.
    pub(super) fn counted_duplicate(&self, sub: &Submission, original: &Submission) {
        self.metrics.duplicates.inc();
        let agency = self.agency_label(sub);
        tracing::info!(
            receipt = %sub.receipt,
            agency = %agency,
            file = %sub.original_name,
            first = %original.receipt,
            "duplicate"
        );
    }

    /// The messages of a checked file (its receipt is known now), held for review when
    /// `[review] hold` says so.
    /// `conn` reads the version this one supersedes (it sees a batch's earlier files).
    pub(super) fn stage(
        &self,
        sub: &Submission,
        checked: &Checked,
        conn: &rusqlite::Connection,
    ) -> Staged {
        // Over 80 lines on purpose: the messages of one checked file, decided together: feedback,
        // receipt file, review hold and admin notices depend on one another's outcome.
        let config = self.config();
        let folder_agency = self.agency_of_submission(sub);
        let agency = folder_agency.as_ref();
        let name = file_name(&sub.original_name);
        let result = &checked.result;
        let standing = standing_version(conn, sub, result);
        let note = standing.as_ref().map(|s| {
            format!(
                "本版本替代此前提交的《{}》（回执编号 {}），以本回执为准，旧回执作废。",
                mail::render::clean(&file_name(&s.original_name)),
                s.receipt
            )
        });
        let (subject, body) = match &result.findings.first() {
            Some(f) if f.rule == crate::rules::FILE_TOO_LARGE.id => mail::render(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &Outcome::TooLarge {
                    size: sub.size as u64,
                    limit: config.max_file_bytes(),
                },
            ),
            _ => mail::render::render_with(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &Outcome::Checked(result),
                note.as_deref(),
            ),
        };
        let unreadable = result.report.is_none();
        // The HTML part is rendered when it is sent, from the stored report and findings.
        let html = (!unreadable).then(|| crate::store::HtmlFrom {
            agency: agency.map(|a| a.name.clone()),
            file: name.clone(),
            note: note.clone(),
        });
        let mut messages = self.messages(agency, unreadable, &subject, &body, html.as_ref());
        let receipt_body = format!("{body}{}", mail::items::appendix(&result.findings));
        messages.extend(self.receipt_file(sub, &subject, &receipt_body));
        if let Some(standing) = &standing {
            messages.extend(self.superseded_receipt(conn, sub, standing));
        }
        if let (Some(panic), Some(admin)) = (&checked.internal_error, &config.mail.admin) {
            messages.push(OutboxMessage {
                kind: MessageKind::Notice,
                recipient: admin.clone(),
                subject: format!("【程序错误】{} {}", sub.receipt, sub.original_name),
                body_text: format!(
                    "审核程序读取回执 {} 的文件 {} 时出错（程序缺陷，不是文件的问题）：\n{panic}\n\n\
                     提交单位已收到“政务公开办会人工查看”的答复。请人工审核归档文件 archive/{}/{}，\
                     并把该文件交给维护人员复现。",
                    sub.receipt,
                    sub.original_name,
                    sub.sha256.get(..2).unwrap_or("xx"),
                    sub.sha256
                ),
                body_html: None,
                html_from: None,
            });
        }
        // Held for review (`[review] hold`): the agency hears "已收到，正在审核" now, the
        // feedback once an admin releases it or decides (notices to the admin go at once).
        let hold_reason = crate::review::hold_reason(config.review.hold, result);
        let (held, acks) = match &hold_reason {
            Some(_) => {
                let (held, now): (Vec<_>, Vec<_>) = messages
                    .into_iter()
                    .partition(|m| m.kind != MessageKind::Notice);
                messages = now;
                let (subject, body) =
                    crate::review::received(&sub.receipt, agency.map(|a| a.name.as_str()), &name);
                let mut acks = crate::review::to_each(
                    MessageKind::Received,
                    &agency.map(|a| a.email.clone()).unwrap_or_default(),
                    &subject,
                    &body,
                );
                acks.extend(self.receipt_file(sub, &subject, &body));
                (held, acks)
            }
            None => (Vec::new(), Vec::new()),
        };
        Staged {
            messages,
            hold_reason,
            held,
            acks,
        }
    }

    /// Counts and logs a checked file once its outcome is stored.
    pub(super) fn counted_checked(&self, sub: &Submission, checked: &Checked) {
        let result = &checked.result;
        self.index_shared_text(sub, result);
        let unreadable = result.report.is_none();
        let agency = self.agency_label(sub);
        self.metrics.observe_ms(checked.check_ms);
        let counter = if unreadable {
            &self.metrics.unreadable
        } else if result.accepted() {
            &self.metrics.accepted
        } else {
            &self.metrics.rejected
        };
        counter.inc();
        tracing::info!(
            receipt = %sub.receipt,
            agency = %agency,
            file = %sub.original_name,
            year = result.report.as_ref().and_then(|r| r.year),
            verdict = %Verdict::of(result.accepted()),
            errors = result.errors(),
            warnings = result.warnings(),
            check_ms = checked.check_ms,
            "checked"
        );
    }

    /// The agency of the submission's folder. An unconfigured folder is an agency of its
    /// own, named by the folder (no address: its messages go to the admin).
    fn agency_of_submission(&self, sub: &Submission) -> Option<crate::config::Agency> {
        let config = self.config();
        sub.agency_folder
            .as_deref()
            .map(|f| config.agency_or_folder(f))
    }

    /// The agency as the logs name it: its configured name, or the folder's.
    fn agency_label(&self, sub: &Submission) -> String {
        self.agency_of_submission(sub)
            .map_or("-".into(), |a| a.name)
    }

    /// Checks bytes with last year's report of the same agency, when stored.
    pub(super) fn check(
        &self,
        bytes: &[u8],
        name: &str,
        agency_folder: Option<&str>,
    ) -> CheckResult {
        test_panic_hook(name);
        let filing_year = self.filing_year();
        let first = check_bytes_with(
            bytes,
            name,
            &Context {
                previous: None,
                filing_year,
                same_year: None,
            },
        );
        let previous = match (agency_folder, first.report.as_ref().and_then(|r| r.year)) {
            (Some(folder), Some(year)) => match self.store().latest_report(folder, year - 1) {
                Ok(previous) => previous,
                Err(e) => {
                    tracing::warn!(
                        file = name,
                        agency = folder,
                        year = year - 1,
                        error = %format!("{e:#}"),
                        "cannot read last year's report; the cross-year rules are skipped for this file"
                    );
                    None
                }
            },
            _ => None,
        };
        let same_year = match (agency_folder, first.readable_report()) {
            (Some(folder), Some(report)) => report
                .year
                .map(|year| self.same_year(folder, year, report))
                .filter(|s| !s.others.is_empty()),
            _ => None,
        };
        if previous.is_none() && same_year.is_none() {
            return first;
        }
        crate::check::revalidate(
            first,
            &Context {
                previous: previous.as_ref(),
                filing_year,
                same_year: same_year.as_ref(),
            },
        )
    }

    /// The index of `year`'s stored reports, built from the store on first use.
    fn shared_text(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i32, crate::shared_text::TextIndex>>
    {
        // An index left half-updated by a panic only misses or keeps a report: still usable.
        self.shared_text.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Other agencies' reports of `year` that share sentences with `report`.
    fn same_year(
        &self,
        folder: &str,
        year: i32,
        report: &crate::report::Report,
    ) -> crate::shared_text::SameYear {
        let mut indexes = self.shared_text();
        let index = match indexes.entry(year) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let stored = match self.store().reports_of_year(year) {
                    Ok(stored) => stored,
                    Err(e) => {
                        tracing::warn!(year, error = %e, "cannot read the year's reports; text shared with other agencies is not checked for this file");
                        return crate::shared_text::SameYear::default();
                    }
                };
                let mut index = crate::shared_text::TextIndex::default();
                for r in &stored {
                    let agency = self.agency_name(&r.folder, r.agency_name.as_deref(), &r.report);
                    index.insert(&r.folder, &agency, &r.receipt, &r.report);
                }
                tracing::info!(year, reports = index.len(), "shared-text index built");
                e.insert(index)
            }
        };
        index.same_year(folder, report)
    }

    /// An agency as the messages of other agencies name it: its configured name, the name
    /// recorded with its submission, the title's, or its folder.
    fn agency_name(
        &self,
        folder: &str,
        recorded: Option<&str>,
        report: &crate::report::Report,
    ) -> String {
        let configured = self.config().agency_or_folder(folder).name;
        if configured != folder {
            return configured;
        }
        recorded
            .map(str::to_string)
            .or_else(|| report.agency.clone())
            .unwrap_or(configured)
    }

    /// Puts a stored outcome into its year's index, if that index is built (otherwise it is
    /// built from the store, this outcome included, when first needed).
    fn index_shared_text(&self, sub: &Submission, result: &CheckResult) {
        let (Some(folder), Some(report)) = (sub.agency_folder.as_deref(), result.readable_report())
        else {
            return;
        };
        let Some(year) = report.year else { return };
        let agency = self.agency_name(folder, sub.agency_name.as_deref(), report);
        if let Some(index) = self.shared_text().get_mut(&year) {
            index.insert(folder, &agency, &sub.receipt, report);
        }
    }

    /// Who gets the message: the agency's addresses; the admin when there are none, and
    /// also for a file that could not be read at all.
    pub(super) fn messages(
        &self,
        agency: Option<&crate::config::Agency>,
        unreadable: bool,
        subject: &str,
        body: &str,
        html: Option<&crate::store::HtmlFrom>,
    ) -> Vec<OutboxMessage> {
        let mut out: Vec<OutboxMessage> = agency
            .map(|a| a.email.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|to| OutboxMessage {
                kind: MessageKind::Feedback,
                recipient: to,
                subject: subject.to_string(),
                body_text: body.to_string(),
                body_html: None,
                html_from: html.cloned(),
            })
            .collect();
        if (out.is_empty() || unreadable)
            && let Some(admin) = &self.config().mail.admin
        {
            out.push(OutboxMessage {
                kind: MessageKind::Admin,
                recipient: admin.clone(),
                subject: subject.to_string(),
                body_text: body.to_string(),
                body_html: None,
                html_from: html.cloned(),
            });
        }
        out
    }
}

/// The checked version of the same agency and year that `sub` supersedes, if any (the store
/// marks it superseded in the same transaction). A failed read costs only the note.
fn standing_version(
    conn: &rusqlite::Connection,
    sub: &Submission,
    result: &CheckResult,
) -> Option<crate::store::versions::Standing> {
    let folder = sub.agency_folder.as_deref()?;
    let year = result.report.as_ref()?.year?;
    crate::store::versions::standing_before(conn, sub.id, folder, year)
        .map_err(|e| {
            tracing::warn!(receipt = %sub.receipt, error = %e, "cannot read the version this one supersedes; its answer does not name it");
        })
        .ok()
        .flatten()
}

impl Pipeline {
    /// The old version's receipt file rewritten with one line at the top saying it is
    /// superseded, and by which receipt (when it has a file of its own: a version saved
    /// under the same name gets its receipt replaced anyway).
    fn superseded_receipt(
        &self,
        conn: &rusqlite::Connection,
        sub: &Submission,
        standing: &crate::store::versions::Standing,
    ) -> Option<OutboxMessage> {
        let path = super::delivery::receipt_path(&standing.original_name)?;
        let new_path = super::delivery::receipt_path(&sub.original_name)?;
        if path == new_path || !self.config().mail.receipt_files {
            return None;
        }
        let text = crate::store::versions::receipt_text(conn, &standing.receipt, &path)
            .ok()
            .flatten()?;
        let line = format!(
            "【本回执已作废】《{}》（回执编号 {}）已被新版本《{}》（回执编号 {}）替代，以新版本的回执“{}”为准。",
            mail::render::clean(&file_name(&standing.original_name)),
            standing.receipt,
            mail::render::clean(&file_name(&sub.original_name)),
            sub.receipt,
            file_name(&new_path),
        );
        Some(OutboxMessage {
            kind: MessageKind::Receipt,
            recipient: path,
            subject: format!("【已作废】{}", standing.receipt),
            body_text: format!("{line}\n\n{text}"),
            body_html: None,
            html_from: None,
        })
    }
}

fn too_large(name: &str, file: &ToCheck<'_>, limit: u64) -> CheckResult {
    let mut result = crate::check::check_bytes(&[], name);
    result.sha256 = file.sha256.to_string();
    result.findings = vec![Finding::new(
        &crate::rules::FILE_TOO_LARGE,
        Location::default(),
        crate::extract::ExtractError::TooLarge {
            size: file.size as u64,
            limit,
        }
        .to_string(),
    )];
    result
}
