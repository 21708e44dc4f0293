//! One submission (`/submission/{receipt}`): its verdict, findings, messages and versions;
//! and the download of its original (`/submission/{receipt}/original`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::Console;
use super::auth::Visitor;
use super::layout::{blocking, china_time, enc, internal, layout, not_found, page};
use crate::check::CheckResult;
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::store::{
    MessageState, OutboxState, Submission, SubmissionDetail, SubmissionState, Verdict,
};

/// A finding read back from the store, as the renderers take it.
struct SubmissionView {
    sub: Submission,
    agency: Option<String>,
    detail: SubmissionDetail,
    result: CheckResult,
    messages: Vec<MessageState>,
    duplicate_of: Option<String>,
    superseded_by: Option<String>,
    review: super::review::ReviewView,
    /// For a report read from a scan: how many of its pages are shown beside the tables.
    scan_pages: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SubmissionQuery {
    /// The action just done, confirmed on the page.
    done: Option<String>,
}

pub async fn submission(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
    Query(query): Query<SubmissionQuery>,
) -> Response {
    if let Err(r) = super::scope::receipt_allowed(&console, &v, &receipt).await {
        return r;
    }
    let view = blocking(&console, move |c, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(None);
        };
        let conn = store.connection();
        let detail = crate::store::submission_detail(conn, sub.id)?.unwrap_or_default();
        let findings: Vec<Finding> = crate::store::findings(conn, sub.id)?;
        let report: Option<Report> = detail
            .report_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        let receipt_of = |id: Option<i64>| -> anyhow::Result<Option<String>> {
            Ok(match id {
                Some(id) => store.get(id)?.map(|s| s.receipt),
                None => None,
            })
        };
        let agency = agency_name(&c.config(), &sub);
        let mut review = super::review::load(store, &c.config(), &sub)?;
        review.done = query.done;
        let scan_pages = if super::scan::is_scan(&findings) {
            Some(super::scan::pages_of(c, &sub)?)
        } else {
            None
        };
        Ok(Some(SubmissionView {
            review,
            scan_pages,
            duplicate_of: receipt_of(sub.duplicate_of)?,
            superseded_by: receipt_of(sub.superseded_by)?,
            messages: crate::store::messages_of_submission(conn, sub.id)?,
            result: CheckResult::from_stored(
                sub.original_name.clone(),
                sub.sha256.clone(),
                report,
                findings,
            ),
            agency,
            detail,
            sub,
        }))
    })
    .await;
    match view {
        Ok(Some(view)) => page(StatusCode::OK, submission_page(&v, &view)),
        Ok(None) => not_found(&v, "没有这个回执编号的提交。"),
        Err(r) => r,
    }
}

/// The agency of a submission as configured now, or as named when it arrived.
pub(super) fn agency_name(config: &crate::config::Config, sub: &Submission) -> Option<String> {
    sub.agency_folder
        .as_deref()
        .and_then(|f| config.agency(f))
        .map(|a| a.name.clone())
        .or_else(|| sub.agency_name.clone())
}

pub(super) fn verdict_shown(sub: &Submission) -> (&'static str, &'static str) {
    match (sub.state, sub.verdict) {
        (SubmissionState::Duplicate, _) => ("重复提交", "missing"),
        (SubmissionState::Failed, _) => ("无法审核", "bad"),
        (SubmissionState::Archived, _) => ("待审核", "missing"),
        (_, Some(Verdict::Accepted)) => ("已受理", "ok"),
        (_, _) => ("需修改", "bad"),
    }
}

pub(super) fn outbox_state(s: OutboxState) -> &'static str {
    match s {
        OutboxState::Pending => "待发送",
        OutboxState::Sent => "已发送",
        OutboxState::Failed => "发送失败",
        OutboxState::Held => "暂缓（待复核）",
        OutboxState::Unconfirmed => "已发出，未确认送达",
    }
}

fn submission_page(v: &Visitor, view: &SubmissionView) -> Markup {
    // Over 80 lines on purpose: a page is one maud template, top to bottom as it is shown (verdict,
    // findings, tables, messages, versions, review); the parts share the view and read in order.
    let sub = &view.sub;
    let result = &view.result;
    let (verdict, class) = verdict_shown(sub);
    let listing =
        crate::mail::items::listing(&result.findings, crate::mail::render::lead_items(result));
    let tables = result
        .report
        .as_ref()
        .map(|r| crate::mail::html::tables(r, &result.findings, true))
        .filter(|t| !t.is_empty());
    let agency = view
        .agency
        .clone()
        .or_else(|| sub.agency_folder.clone())
        .unwrap_or_else(|| "（未归属单位）".into());
    layout(
        v,
        &sub.receipt,
        html! {
            h1 { (agency) " · " (sub.receipt) }
            p class=(format!("verdict {class}")) {
                "审核结果：" strong #verdict { (verdict) }
                @if sub.reviewed { " " span.note { "经人工复核" } }
                @if view.review.held { " " span.note { "待复核，审核意见暂缓发出" } }
            }
            table.facts {
                tr { th { "回执编号" } td #receipt { (sub.receipt) } }
                tr {
                    th { "单位" }
                    td {
                        @match &sub.agency_folder {
                            Some(f) => { a href=(format!("/agency/{}", enc(f))) { (agency) } " （文件夹 " (f) "）" },
                            None => (agency),
                        }
                    }
                }
                tr {
                    th { "文件" }
                    td {
                        span #file { (sub.original_name) } " "
                        a href=(format!("/submission/{}/original", enc(&sub.receipt))) { "下载原件" }
                    }
                }
                tr { th { "大小" } td { (sub.size) " 字节" } }
                @if let Some(at) = &sub.archive_removed_at {
                    tr { th { "原件" } td { "已于 " (china_time(at)) "（北京时间）按保留期限删除；审核记录保留。" } }
                }
                tr { th { "提交账号（文件属主）" } td #owner { (sub.owner.as_ref().map(|o| o.label()).unwrap_or_else(|| "—".into())) } }
                tr { th { "SHA-256" } td { code #sha256 { (sub.sha256) } } }
                tr { th { "收到时间" } td { (china_time(&sub.received_at)) "（北京时间）" } }
                tr { th { "模板" } td { (view.detail.template.as_deref().unwrap_or("—")) } }
                tr { th { "报告年度" } td { (sub.year.map(|y| y.to_string()).unwrap_or_else(|| "—".into())) } }
                tr {
                    th { "错误 / 提示" }
                    td { (sub.errors.unwrap_or(0)) " / " (sub.warnings.unwrap_or(0)) }
                }
                @if let Some(r) = &view.duplicate_of {
                    tr { th { "与之相同" } td { a href=(format!("/submission/{}", enc(r))) { (r) } } }
                }
                @if let Some(r) = &view.superseded_by {
                    tr { th { "已被新版本替代" } td { a href=(format!("/submission/{}", enc(r))) { (r) } } }
                }
                @if let Some(why) = &view.detail.failure {
                    tr { th { "无法审核的原因" } td { (why) } }
                }
            }
            h2 { "审核意见" }
            @if let Some(r) = &view.duplicate_of {
                p { "与 " a href=(format!("/submission/{}", enc(r))) { (r) } " 内容完全相同，未重新审核；审核意见见该提交。" }
            } @else if sub.state == SubmissionState::Archived {
                p { "尚未审核（稍后刷新）。" }
            } @else if listing.items.is_empty() {
                p { "未发现问题。" }
            } @else {
                ol.items {
                    @for item in &listing.items {
                        li class=(if item.severity == Severity::Error { "error" } else { "warning" }) {
                            b { "【" (item.label()) "】" } (item.text)
                        }
                    }
                }
                @if listing.more_items > 0 {
                    p { "另有 " (listing.more_items) " 项（" (listing.more_errors) " 处错误、"
                        (listing.more_warnings) " 条提示），见下方逐条意见。" }
                }
                details {
                    summary { "逐条意见（共 " (result.findings.len()) " 条）" }
                    ol.findings {
                        @for (i, f) in result.findings.iter().enumerate() {
                            li class=(if f.severity == Severity::Error { "error" } else { "warning" }) {
                                b { "【" (f.severity.label()) "】" }
                                @if f.about == crate::finding::About::Reading { span.about { "【" (f.about.label()) "】" } }
                                (f.message) " "
                                code.rule { (f.rule) }
                                @if view.review.not_applicable(i) { " " span.note { "经复核不适用" } }
                            }
                        }
                    }
                }
            }
            (super::review::section(v, sub, &view.review, &result.findings))
            @if let Some(pages) = view.scan_pages {
                (super::scan::section(v, sub, result, pages, view.review.held))
            } @else if let Some(t) = tables {
                h2 { "表格（标红的格有错误，标黄的格有提示）" }
                // The mail's renderer, which escapes every value itself.
                div.tables { (PreEscaped(t)) }
            }
            h2 { "反馈邮件" }
            @if view.messages.is_empty() {
                p { "没有排队的邮件。" }
            } @else {
                table.messages {
                    thead { tr { th { "收件人" } th { "类型" } th { "状态" } th { "尝试" } th { "排队时间" } th { "发送时间" } th { "错误" } } }
                    tbody {
                        @for m in &view.messages {
                            tr {
                                td { (m.recipient) }
                                td { (super::review::kind_label(m.kind)) }
                                td class=(match m.state { OutboxState::Sent | OutboxState::Unconfirmed => "ok", OutboxState::Failed => "bad", OutboxState::Pending | OutboxState::Held => "missing" }) { (outbox_state(m.state)) }
                                td.num { (m.attempts) }
                                td { (china_time(&m.created_at)) }
                                td { (m.sent_at.as_deref().map(china_time).unwrap_or_default()) }
                                td { (m.last_error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                @for m in view.messages.iter().filter(|m| m.kind == crate::store::MessageKind::Feedback).take(1) {
                    details {
                        summary { "邮件原文：" (m.subject) }
                        pre.mail { (m.body_text) }
                    }
                }
            }
        },
    )
}

/// A file name for `Content-Disposition`: the last part of the original name, without
/// quotes, backslashes or control characters; and a plain-ASCII fallback
/// (`<receipt>.<extension>`) for clients that do not read `filename*`.
pub fn download_names(original: &str, receipt: &str) -> (String, String) {
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = if clean.trim().is_empty() || clean == "." || clean == ".." {
        receipt.to_string()
    } else {
        clean
    };
    let ext: String = clean
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let ascii: String = format!("{receipt}{ext}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    (clean, ascii)
}

pub(super) fn attachment(
    bytes: impl IntoResponse,
    content_type: &'static str,
    name: &str,
    ascii: &str,
) -> Response {
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        enc(name)
    );
    let mut r = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response();
    match HeaderValue::from_str(&disposition) {
        Ok(v) => {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            r
        }
        Err(e) => internal(&format!("Content-Disposition {disposition:?}: {e}")),
    }
}

/// Whether `s` has the shape of a receipt number (`NB-2026-000123`).
fn is_receipt(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() >= 14
        && s.starts_with("NB-")
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..].iter().all(u8::is_ascii_digit)
}

/// The archived original of a receipt, by receipt number only; 404 for anything else.
/// Where the archived original of `sub` is; an error when its stored sha256 is no hash
/// (a damaged database must not name a path outside the archive).
pub(super) fn archived_path(c: &Console, sub: &Submission) -> anyhow::Result<std::path::PathBuf> {
    if sub.sha256.len() != 64 || !sub.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!(
            "{}: stored sha256 {:?} is not a hash",
            sub.receipt,
            sub.sha256
        );
    }
    Ok(c.paths.archived(&sub.sha256))
}

pub async fn original(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
) -> Response {
    // An imported submission (`nianbao import --bundle`): its original stayed at its office.
    if let Some((own, _)) = receipt.split_once('@')
        && is_receipt(own)
    {
        if let Err(r) = super::scope::receipt_allowed(&console, &v, &receipt).await {
            return r;
        }
        let r2 = receipt.clone();
        let office = blocking(&console, move |_, store| {
            Ok(match store.by_receipt(&r2)? {
                Some(sub) => crate::bundle::origin_of(store.connection(), sub.id)?,
                None => None,
            })
        })
        .await;
        return match office {
            Ok(Some(office)) => not_found(
                &v,
                &format!(
                    "{own} 由{office}受理，经数据包导入本系统：原件保存在{office}，请向其索取。"
                ),
            ),
            Ok(None) => not_found(&v, "没有这个回执编号的提交。"),
            Err(r) => r,
        };
    }
    if !is_receipt(&receipt) {
        return not_found(&v, "没有这个回执编号的提交。");
    }
    if let Err(r) = super::scope::receipt_allowed(&console, &v, &receipt).await {
        return r;
    }
    let found = blocking(&console, move |c, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(None);
        };
        let path = archived_path(c, &sub)?;
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(Err(sub))),
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        };
        let len = file
            .metadata()
            .map_err(|e| anyhow::anyhow!("cannot stat {}: {e}", path.display()))?
            .len();
        Ok(Some(Ok((sub, file, len))))
    })
    .await;
    match found {
        Ok(Some(Ok((sub, file, len)))) => {
            let (name, ascii) = download_names(&sub.original_name, &sub.receipt);
            // Streamed from the file, its sha256 checked on the way (see `download`).
            let body = super::download::body(file, len, sub.sha256, sub.receipt);
            super::download::with_length(
                attachment(body, "application/octet-stream", &name, &ascii),
                len,
            )
        }
        Ok(Some(Err(sub))) => not_found(
            &v,
            &format!(
                "{} 的归档原件已不在归档目录中（请从备份恢复）。",
                sub.receipt
            ),
        ),
        Ok(None) => not_found(&v, "没有这个回执编号的提交。"),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_safe() {
        assert_eq!(
            download_names("xss/年报.docx", "NB-2026-000001"),
            ("年报.docx".to_string(), "NB-2026-000001.docx".to_string())
        );
        let (name, ascii) = download_names("a/\"x\r\n;y\".txt", "NB-2026-000002");
        assert!(!name.contains(['"', '\r', '\n', ';', '/']), "{name}");
        assert_eq!(ascii, "NB-2026-000002.txt");
        assert_eq!(download_names("a/..", "NB-2026-000003").0, "NB-2026-000003");
    }

    #[test]
    fn receipts_and_encoding() {
        assert!(is_receipt("NB-2026-000123"));
        assert!(!is_receipt("../../etc/passwd"));
        assert!(!is_receipt("NB-2026-00012/"));
        assert_eq!(enc("街道 a/b"), "%E8%A1%97%E9%81%93%20a%2Fb");
        assert_eq!(china_time("2025-12-31T23:30:00Z"), "2026-01-01 07:30:00");
    }
}
