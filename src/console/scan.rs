//! A scan's review in the console (issue 25): the scan's pages beside the tables as read,
//! the doubtful cells marked, and the officer's correction of a cell's reading.
//!
//! A report read by OCR is always held for review. The officer compares each doubtful cell
//! (a purple dotted box with a "？") with the page beside it and corrects the reading where
//! it is wrong, with a reason. A correction changes the stored report, its cells and its
//! findings (`check::findings_after_correction`) and is kept in the review history; the
//! release then sends the feedback drawn from the corrected report, saying what was
//! corrected. The agency is never blamed for the reader's mistake, and never hears of a
//! correction before the release.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::Console;
use super::auth::{Visitor, may};
use super::layout::{blocking, enc, not_found};
use super::review::{Done, MAX_REASON_CHARS, act, admin_on, reviewer};
use super::users::Role;
use crate::check::CheckResult;
use crate::finding::Finding;
use crate::report::schema::cell_printed;
use crate::store::review::{self as rv, Action, Decision};
use crate::store::{Submission, SubmissionState};

/// Whether a submission's report was read from a scan (its findings carry `file.ocr`).
pub fn is_scan(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.rule == crate::rules::FILE_OCR.id)
}

/// The archived original of `sub`, its sha256 verified (`None`: no longer archived).
fn original_bytes(c: &Console, sub: &Submission) -> anyhow::Result<Option<Vec<u8>>> {
    let path = super::submission::archived_path(c, sub)?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    if crate::check::sha256_hex(&bytes) != sub.sha256 {
        anyhow::bail!(
            "{}: the archived copy {} is not the file received",
            sub.receipt,
            path.display()
        );
    }
    Ok(Some(bytes))
}

/// How many pages of the scan `sub` the page shows (0 when the original is gone).
pub fn pages_of(c: &Console, sub: &Submission) -> anyhow::Result<u32> {
    Ok(original_bytes(c, sub)?.map_or(0, |b| crate::extract::scan_page_count(&b)))
}

/// `GET /submission/{receipt}/page/{page}`: page `page` of a scan as a PNG.
pub async fn page(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path((receipt, page)): Path<(String, String)>,
) -> Response {
    if let Err(r) = super::scope::receipt_allowed(&console, &v, &receipt).await {
        return r;
    }
    let Ok(page) = page.parse::<u32>() else {
        return not_found(&v, "没有这一页。");
    };
    let found = blocking(&console, move |c, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Err("没有这个回执编号的提交。".to_string()));
        };
        if !is_scan(&crate::store::findings(store.connection(), sub.id)?) {
            return Ok(Err("这份提交不是扫描件，没有页面图像。".to_string()));
        }
        match original_bytes(c, &sub)? {
            Some(bytes) => Ok(Ok(bytes)),
            None => Ok(Err(format!(
                "{} 的归档原件已不在归档目录中（请从备份恢复）。",
                sub.receipt
            ))),
        }
    })
    .await;
    let bytes = match found {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(why)) => return not_found(&v, &why),
        Err(r) => return r,
    };
    // Rendering takes a second: on the blocking pool, without the console's connection.
    match tokio::task::spawn_blocking(move || crate::extract::scan_page_png(&bytes, page)).await {
        Ok(Ok(png)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, max-age=600"),
            ],
            png,
        )
            .into_response(),
        Ok(Err(why)) => not_found(&v, &why),
        Err(e) => super::layout::internal(&e.to_string()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CorrectForm {
    /// `table/row/column`, ids of check-json.md.
    #[serde(default)]
    cell: String,
    /// The value on the page: an integer, or empty for a blank cell.
    #[serde(default)]
    value: String,
    #[serde(default)]
    reason: String,
}

/// The value an officer typed: digits (full-width ones too, and a minus), or blank.
fn typed_value(s: &str) -> Result<Option<i64>, String> {
    let s: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '－' => '-',
            c => c,
        })
        .collect();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("“{s}”不是整数：请填写扫描件上的数字（空白格留空）。"))
}

fn shown(v: Option<i64>) -> String {
    v.map_or_else(|| "空白".to_string(), |v| v.to_string())
}

/// `POST /submission/{receipt}/correct`: the officer's correction of one cell of a scan's
/// reading, with a reason, while its feedback is held.
pub async fn correct(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
    Form(form): Form<CorrectForm>,
) -> Response {
    // Over 80 lines on purpose: one handler: the checks (CSRF, scope, held, a scan, the cell
    // exists, a reason) come before the one write, and each refusal is answered in place.
    if let Err(r) = admin_on(&console, &v, &receipt).await {
        return r;
    }
    let who = reviewer(&v);
    act(&console, &v, move |c, store| {
        let mut parts = form.cell.splitn(3, '/');
        let (Some(table), Some(row), Some(column)) = (
            parts.next().and_then(|t| t.parse::<u8>().ok()),
            parts.next(),
            parts.next(),
        ) else {
            return Ok(Done::Refused("请选择要更正的格。".into()));
        };
        let value = match typed_value(&form.value) {
            Ok(v) => v,
            Err(why) => return Ok(Done::Refused(why)),
        };
        let reason: String = form.reason.trim().chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() {
            return Ok(Done::Refused("请填写理由（例如“对照扫描件第 2 页”）。".into()));
        }
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        let conn = store.connection();
        let stored = crate::store::findings(store.connection(), sub.id)?;
        if sub.state != SubmissionState::Checked || !is_scan(&stored) {
            return Ok(Done::Refused(
                "只有由扫描件识别读取的报告可以更正识别结果；其他报告的数据以提交单位的原件为准。"
                    .into(),
            ));
        }
        if !rv::is_held(conn, sub.id)? {
            return Ok(Done::Refused(
                "审核意见已经发出，识别结果不能再更正。".into(),
            ));
        }
        let history = rv::reviews_of(conn, sub.id)?;
        if crate::review::marks_any(&rv::made_while_held(&history)) {
            return Ok(Done::Refused(
                "已有审核意见标为不适用：更正会重新生成审核意见，请先更正识别结果，再标记不适用的意见。"
                    .into(),
            ));
        }
        let Some(json) = rv::stored_report_json(conn, sub.id)? else {
            return Ok(Done::Refused("这份提交没有读出报告，无从更正。".into()));
        };
        let mut report: crate::report::Report = serde_json::from_str(&json)?;
        let old = match report.set_cell(table, row, column, value) {
            Ok(old) => old,
            Err(why) => return Ok(Done::Refused(why.to_string())),
        };
        if old == value {
            return Ok(Done::Refused(format!(
                "{}已是 {}，无需更正。",
                cell_printed(table, row, column),
                shown(value)
            )));
        }
        let config = c.config();
        let previous = match (sub.agency_folder.as_deref(), report.year) {
            (Some(folder), Some(year)) => store.latest_report(folder, year - 1)?,
            _ => None,
        };
        let ctx = crate::validate::Context {
            previous: previous.as_ref(),
            filing_year: config.filing_year_or_current(),
            same_year: None,
        };
        let corrected = [(table, row.to_string(), column.to_string())];
        let findings = crate::check::findings_after_correction(&report, stored, &corrected, &ctx);
        let said = format!(
            "{}：识别为 {}，经核对更正为 {}（理由：{reason}）",
            cell_printed(table, row, column),
            shown(old),
            shown(value)
        );
        let at = crate::time::now_utc();
        let decision = Decision {
            action: Action::Correct,
            finding_seq: None,
            reason: &said,
            reviewer: &who,
            at: &at,
        };
        match rv::correct(conn, sub.id, &report, &findings, &decision)? {
            Some(id) => {
                tracing::info!(receipt = %sub.receipt, user = %who, review = id, table, row, column, "console: a scan's cell corrected");
                Ok(Done::Confirmed(sub.receipt, Action::Correct.as_str()))
            }
            None => Ok(Done::Refused(
                "审核意见已经发出，识别结果不能再更正。".into(),
            )),
        }
    })
    .await
}

/// The scan part of the submission page: the pages beside the tables as read, and (for an
/// admin, while the feedback is held) the forms that correct a cell.
pub fn section(
    v: &Visitor,
    sub: &Submission,
    result: &CheckResult,
    pages: u32,
    held: bool,
) -> Markup {
    // Over 80 lines on purpose: one maud template, the scan section as it is shown (pages beside
    // the tables).
    let tables = result
        .report
        .as_ref()
        .map(|r| crate::mail::html::tables(r, &result.findings, true))
        .unwrap_or_default();
    let doubts: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.rule == crate::rules::READ_DOUBTFUL.id && f.location.column.is_some())
        .collect();
    let cells = result
        .report
        .as_ref()
        .map(crate::store::report_cells)
        .unwrap_or_default();
    let action = format!("/submission/{}/correct", enc(&sub.receipt));
    let cell_id = |f: &Finding| {
        format!(
            "{}/{}/{}",
            f.location.table.unwrap_or(0),
            f.location.row.as_deref().unwrap_or(""),
            f.location.column.as_deref().unwrap_or("")
        )
    };
    html! {
        h2 #scan { "扫描件与识别结果" }
        p {
            "本报告由扫描件识别读取。左边是扫描件原页，右边是识别出的表格；"
            span.doubt { "紫色虚框带“？”" } "的格识别存疑，请对照原页核对。"
            @if doubts.is_empty() { "本次识别没有存疑的格。" } @else { "共 " (doubts.len()) " 格存疑。" }
        }
        div.scan-view {
            div.scan-pages {
                @if pages == 0 {
                    p { "归档原件已不在，无法显示原页。" }
                }
                @for n in 1..=pages {
                    figure {
                        img src=(format!("/submission/{}/page/{n}", enc(&sub.receipt))) alt=(format!("扫描件第 {n} 页")) loading="lazy";
                        figcaption { "第 " (n) " 页" }
                    }
                }
            }
            div.scan-tables #scan-tables { (PreEscaped(tables)) }
        }
        @if held && may(v, Role::Admin) {
            section.review #correct-section {
                h3 { "更正识别结果" }
                p { "识别有误的格，填写扫描件上的数（空白格留空）和理由。更正记入复核记录，审核意见按更正后的数据重新生成，发出时告知提交单位更正了哪些格。" }
                @if !doubts.is_empty() {
                    ol #doubts {
                        @for f in &doubts {
                            li {
                                (f.message)
                                form.review.inline method="post" action=(action) {
                                    input type="hidden" name="csrf" value=(v.csrf);
                                    input type="hidden" name="cell" value=(cell_id(f));
                                    label { "应为 " input type="text" name="value" size="6" inputmode="numeric"; }
                                    label { " 理由 " input type="text" name="reason" required size="24" value="对照扫描件核对"; }
                                    button type="submit" { "更正" }
                                }
                            }
                        }
                    }
                }
                form.review #correct-any method="post" action=(action) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    label { "其他格 "
                        select name="cell" {
                            @for c in &cells {
                                @if c.amount.is_none() {
                                    option value=(format!("{}/{}/{}", c.table, c.row, c.column)) {
                                        (cell_printed(c.table, c.row, c.column)) "（识别为 " (shown(c.value)) "）"
                                    }
                                }
                            }
                        }
                    }
                    label { " 应为 " input type="text" name="value" size="6" inputmode="numeric"; }
                    label { " 理由 " input type="text" name="reason" required size="24"; }
                    button type="submit" { "更正" }
                }
            }
        } @else if !held {
            p.note { "审核意见已经发出，识别结果不能再更正。" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_take_full_width_digits_and_blanks() {
        assert_eq!(typed_value(" 12 "), Ok(Some(12)));
        assert_eq!(typed_value("３"), Ok(Some(3)));
        assert_eq!(typed_value("－1"), Ok(Some(-1)));
        assert_eq!(typed_value(""), Ok(None));
        assert!(typed_value("1o").is_err());
    }
}
