//! The HTML part rendered when the message is sent (issue 17) is the page rendered from the
//! check result when the outcome was stored, byte for byte: for every corpus report, with
//! mistakes put in, stored in a real SQLite file and read back from its report and findings.

use nianbao::check::check_bytes_with;
use nianbao::mail::{Outcome, deferred, html, render};
use nianbao::store::{HtmlFrom, MessageKind, NewSubmission, OutboxMessage, Store};
use nianbao::validate::Context;

fn fixtures() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .map(|n| {
            let text = std::fs::read_to_string(format!("{dir}/{n}")).expect("fixture");
            (n, text)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn html_rendered_at_send_time_is_the_html_rendered_at_check_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("nianbao.sqlite")).expect("open");
    let mut compared = 0;
    for (i, (name, text)) in fixtures().into_iter().enumerate() {
        // As found, and with a total off by ten (a finding pointing into a table).
        for (j, text) in [text.clone(), text.replacen("3050", "3060", 1)]
            .into_iter()
            .enumerate()
        {
            let result = check_bytes_with(
                text.as_bytes(),
                &name,
                &Context {
                    previous: None,
                    filing_year: 2025,
                    same_year: None,
                },
            );
            if result.report.is_none() {
                continue;
            }
            let identity = format!("{i}:{j}");
            let sub = store
                .record(
                    &NewSubmission {
                        agency_folder: Some("huaian"),
                        agency_name: Some("淮安市人民政府"),
                        original_name: &name,
                        size: text.len() as u64,
                        sha256: &result.sha256,
                        source_identity: &identity,
                        received_at: "2025-01-20T08:00:00Z",
                        owner: None,
                    },
                    2025,
                )
                .expect("record");
            let agency = (j == 0).then_some("淮安市人民政府");
            let (subject, body) = render(&sub.receipt, agency, &name, &Outcome::Checked(&result));
            let at_check = html::render(&sub.receipt, agency, &name, &result, &subject);
            let from = HtmlFrom {
                agency: agency.map(str::to_string),
                file: name.clone(),
                note: None,
            };
            let message = OutboxMessage {
                kind: MessageKind::Feedback,
                recipient: "a@b.cn".into(),
                subject: subject.clone(),
                body_text: body,
                body_html: None,
                html_from: Some(from.clone()),
            };
            store
                .store_outcome(
                    sub.id,
                    &result,
                    1,
                    "2025-01-20T08:00:01Z",
                    &[message],
                    &sub.receipt,
                )
                .expect("outcome");
            let at_send = deferred::render_stored(store.connection(), sub.id, &from, &subject)
                .expect("render stored");
            assert!(
                at_send == at_check,
                "{name} ({j}): the HTML rendered at send time differs from the one at check time"
            );
            // The outbox hands the sender the same page.
            let mut batch = store.outbox_batch(100).expect("batch");
            batch.retain(|m| m.submission_id == Some(sub.id));
            assert_eq!(batch.len(), 1);
            assert_eq!(batch[0].body_html, None);
            deferred::fill(store.connection(), &mut batch);
            assert_eq!(batch[0].body_html.as_deref(), Some(at_check.as_str()));
            store
                .mark_sent(batch[0].id, "2025-01-20T08:00:02Z")
                .expect("sent");
            if !result.findings.is_empty() {
                compared += 1;
            }
        }
    }
    assert!(
        compared >= 3,
        "only {compared} reports with findings compared"
    );
}

#[test]
fn an_old_row_with_its_html_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("nianbao.sqlite")).expect("open");
    let old = OutboxMessage {
        kind: MessageKind::Notice,
        recipient: "admin@b.cn".into(),
        subject: "旧邮件".into(),
        body_text: "正文".into(),
        body_html: Some("<p>旧的 HTML</p>".into()),
        html_from: None,
    };
    store.queue_message(None, "old/1", &old).expect("queue");
    let mut batch = store.outbox_batch(10).expect("batch");
    deferred::fill(store.connection(), &mut batch);
    assert_eq!(batch[0].body_html.as_deref(), Some("<p>旧的 HTML</p>"));
}
