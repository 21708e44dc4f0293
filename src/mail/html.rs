//! The HTML part of the feedback: the same findings as the text part, and the affected
//! tables drawn as the template prints them, with the wrong cells highlighted, so that the
//! clerk sees the mistake instead of reading about it.

use crate::check::CheckResult;
use crate::finding::{Finding, Severity};
use crate::report::schema::{
    T1Value, T3_COLUMNS, T3_GROUPS, app_column_printed, app_row, app_row_group, t1_rows,
};
use crate::report::{AppColumn, AppRow, Report, Template};
use crate::validate::culprit::{self, Culprit};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Findings that point into `table` at `row` (and `column`, or the whole row).
fn marks<'a>(findings: &'a [Finding], table: u8, row: &str, column: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| {
            f.location.table == Some(table)
                && f.location.row.as_deref() == Some(row)
                && f.location.column.as_deref().is_none_or(|c| c == column)
        })
        .collect()
}

/// What a cell of a drawn table is: plain, marked by findings, the likely culprit (the cell
/// to correct), or a consequence of it (a total that only fails because of the culprit).
#[derive(Clone, Copy)]
enum Mark<'a> {
    Findings(&'a [&'a Finding]),
    Culprit(&'a Culprit),
    Consequence(&'a [&'a Finding]),
}

/// The colours of the likely culprit and of its consequences (also in the legend).
const CULPRIT_STYLE: &str = "border:3px solid #b00020;background:#ffd6d6;color:#b00020";
const CONSEQUENCE_STYLE: &str = "border:2px dashed #1a5fb4;background:#e3ecfa;color:#1a5fb4";

/// A cell whose reading is doubtful (a scan's `read.doubtful`).
const DOUBT_STYLE: &str = "border:2px dotted #6a1b9a;background:#f3e5f5;color:#6a1b9a";

fn is_doubt(marks: &[&Finding]) -> bool {
    marks
        .iter()
        .any(|f| f.rule == crate::rules::READ_DOUBTFUL.id && f.location.column.is_some())
}

fn td(value: &str, marks: &[&Finding]) -> String {
    td_marked(value, Mark::Findings(marks))
}

fn td_marked(value: &str, mark: Mark<'_>) -> String {
    let titles = |marks: &[&Finding]| -> String {
        marks
            .iter()
            .map(|f| esc(&f.message))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match mark {
        Mark::Culprit(c) => format!(
            "<td data-mark=\"culprit\" style=\"{CULPRIT_STYLE};padding:3px 6px;text-align:right;font-weight:bold\" title=\"{}\">{}<br><span style=\"font-size:11px\">应为 {}</span></td>",
            esc(&format!("最可能的原因：{}", c.message())),
            esc(value),
            c.expected
        ),
        Mark::Consequence(marks) => format!(
            "<td data-mark=\"consequence\" style=\"{CONSEQUENCE_STYLE};padding:3px 6px;text-align:right\" title=\"{}\">{}</td>",
            esc(&format!(
                "此格合计不符是标红加粗框那一格填错引起的，改正那一格即可，此格不必改。{}",
                titles(marks)
            )),
            esc(value)
        ),
        // A cell the reader of a scan is unsure of (issue 25): marked apart from the
        // agency's errors, so that nobody blames the agency for it.
        Mark::Findings(marks) if is_doubt(marks) => format!(
            "<td data-mark=\"doubt\" style=\"{DOUBT_STYLE};padding:3px 6px;text-align:right;font-weight:bold\" title=\"{}\">{}<sup>？</sup></td>",
            titles(marks),
            esc(value)
        ),
        Mark::Findings(marks) => match marks.iter().map(|f| f.severity).max() {
            None => format!(
                "<td style=\"border:1px solid #999;padding:3px 6px;text-align:right\">{}</td>",
                esc(value)
            ),
            Some(severity) => {
                let (bg, color) = match severity {
                    Severity::Error => ("#ffd6d6", "#b00020"),
                    Severity::Warning => ("#fff3c4", "#7a5b00"),
                };
                format!(
                    "<td data-mark=\"{}\" style=\"border:2px solid {color};padding:3px 6px;text-align:right;background:{bg};color:{color};font-weight:bold\" title=\"{}\">{}</td>",
                    severity.as_str(),
                    titles(marks),
                    esc(value)
                )
            }
        },
    }
}

/// The cell at `table`, `row`, `column`: the likely culprit, a consequence of one (every
/// finding there a failed sum of a table that has a culprit), or as its findings mark it.
fn cell(
    value: &str,
    culprits: &[Culprit],
    findings: &[Finding],
    table: u8,
    row: &str,
    column: &str,
) -> String {
    let marks = marks(findings, table, row, column);
    if is_doubt(&marks) {
        return td_marked(value, Mark::Findings(&marks));
    }
    if let Some(c) = culprits.iter().find(|c| c.is(table, row, column)) {
        return td_marked(value, Mark::Culprit(c));
    }
    let caused = !marks.is_empty()
        && culprits.iter().any(|c| c.cell.table == table)
        && marks.iter().all(|f| f.rule.starts_with("sum."));
    if caused {
        td_marked(value, Mark::Consequence(&marks))
    } else {
        td_marked(value, Mark::Findings(&marks))
    }
}

/// The legend under a table that has a likely culprit.
fn legend(culprits: &[Culprit], table: u8) -> String {
    if !culprits.iter().any(|c| c.cell.table == table) {
        return String::new();
    }
    format!(
        "<p data-mark=\"legend\" style=\"font-size:12px;margin:4px 0 12px\">图例：\
         <span style=\"{CULPRIT_STYLE};padding:0 6px;font-weight:bold\">红底粗框</span> 最可能填错、需要改正的格（格内写明应填的数）；\
         <span style=\"{CONSEQUENCE_STYLE};padding:0 6px\">蓝色虚框</span> 因这一格而合计不符的格，本身不必改；\
         <span style=\"border:2px solid #b00020;background:#ffd6d6;color:#b00020;padding:0 6px\">红色</span> 其他错误；\
         <span style=\"border:2px solid #7a5b00;background:#fff3c4;color:#7a5b00;padding:0 6px\">黄色</span> 提示。</p>"
    )
}

fn th(label: &str) -> String {
    format!(
        "<th style=\"border:1px solid #999;padding:3px 6px;background:#f0f0f0;font-weight:normal\">{}</th>",
        esc(label)
    )
}

fn label_td(label: &str) -> String {
    format!(
        "<td style=\"border:1px solid #999;padding:3px 6px\">{}</td>",
        esc(label)
    )
}

fn shown(v: Option<i64>) -> String {
    v.map_or("（空）".to_string(), |v| v.to_string())
}

fn table2(report: &Report, findings: &[Finding], culprits: &[Culprit]) -> String {
    let Some(apps) = &report.applications else {
        return String::new();
    };
    let template = report.template.unwrap_or(Template::V2021);
    let mut out = String::from(
        "<h3>表二 收到和处理政府信息公开申请情况（标红的格有错误，标黄的格有提示）</h3><table style=\"border-collapse:collapse;font-size:13px\"><tr>",
    );
    out.push_str(&th("项目"));
    for c in AppColumn::ALL {
        out.push_str(&th(app_column_printed(c)));
    }
    out.push_str("</tr>");
    for row in AppRow::for_template(template) {
        out.push_str("<tr>");
        let label = match app_row_group(row) {
            Some(group) => format!("{group} {}", app_row(row).printed),
            None => app_row(row).printed.to_string(),
        };
        out.push_str(&label_td(&label));
        let Some(values) = apps.rows.get(&row).cloned().flatten() else {
            // A row not read is one band across the columns, marked once by what its
            // findings say (21 rows of a lost column are 21 bands, not 147 red cells).
            let band = td(
                "未读取（见上方审核意见）",
                &marks(findings, 2, row.id(), ""),
            )
            .replacen("<td ", "<td colspan=\"7\" ", 1)
            .replace("text-align:right", "text-align:center");
            out.push_str(&band);
            out.push_str("</tr>");
            continue;
        };
        for c in AppColumn::ALL {
            let text = shown(values[c.index()]);
            out.push_str(&cell(&text, culprits, findings, 2, row.id(), c.id()));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out.push_str(&legend(culprits, 2));
    out
}

fn table3(report: &Report, findings: &[Finding], culprits: &[Culprit]) -> String {
    let Some(t3) = &report.reviews_and_litigation else {
        return String::new();
    };
    let mut out = String::from(
        "<h3>表三 政府信息公开行政复议、行政诉讼情况</h3><table style=\"border-collapse:collapse;font-size:13px\"><tr>",
    );
    out.push_str(&th(""));
    for (_, label) in T3_COLUMNS {
        out.push_str(&th(label));
    }
    out.push_str("</tr>");
    for ((id, group), (_, printed)) in t3.groups().into_iter().zip(T3_GROUPS) {
        out.push_str("<tr>");
        out.push_str(&label_td(&printed.replace('·', "—")));
        for ((column, _), v) in T3_COLUMNS.iter().zip(group.values()) {
            out.push_str(&cell(&shown(v), culprits, findings, 3, id, column));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out.push_str(&legend(culprits, 3));
    out
}

fn table1(report: &Report, findings: &[Finding]) -> String {
    let Some(t) = &report.active_disclosure else {
        return String::new();
    };
    let rows = t1_rows(t.template());
    let Some(first) = rows.first() else {
        return String::new();
    };
    let mut out = String::from(
        "<h3>表一 主动公开政府信息情况</h3><table style=\"border-collapse:collapse;font-size:13px\">",
    );
    let header: String = first.columns.iter().map(|c| th(c.printed)).collect();
    out.push_str(&format!("<tr>{}{header}</tr>", th("信息内容")));
    for row in rows {
        let id = row.label.id;
        // Rows under another sub-table header say their columns after the label.
        let label = if std::ptr::eq(row.columns, first.columns) {
            row.label.printed.to_string()
        } else {
            let briefs: Vec<&str> = row.columns.iter().map(|c| c.brief).collect();
            format!("{}（{}）", row.label.printed, briefs.join("、"))
        };
        let values = t.row_values(id);
        let cells: String = row
            .columns
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let v = values.as_ref().and_then(|v| v.get(k).cloned().flatten());
                let text = T1Value::shown(&v).unwrap_or_else(|| "（空）".into());
                td(&text, &marks(findings, 1, id, c.id))
            })
            .collect();
        out.push_str(&format!("<tr>{}{cells}</tr>", label_td(&label)));
    }
    out.push_str("</table>");
    out
}

/// The tables of `report` as the template prints them, the cells that `findings` point into
/// highlighted (red: error, yellow: warning; the messages in the cell's `title`). `all`:
/// every table read (the web console); otherwise only the tables with a finding in a row
/// (the mail). The one table renderer of nianbao: the mail and the console both use it.
/// Everything from the report is escaped.
pub fn tables(report: &Report, findings: &[Finding], all: bool) -> String {
    let has = |t: u8| {
        all || findings
            .iter()
            .any(|f| f.location.table == Some(t) && f.location.row.is_some())
    };
    // The cell to fix and the totals it throws out are marked apart (issue 24).
    let culprits = culprit::find(report);
    let mut out = String::new();
    if has(1) {
        out.push_str(&table1(report, findings));
    }
    if has(2) {
        out.push_str(&table2(report, findings, &culprits));
    }
    if has(3) {
        out.push_str(&table3(report, findings, &culprits));
    }
    out
}

/// The HTML part for a checked submission.
pub fn render(
    receipt: &str,
    agency: Option<&str>,
    file_name: &str,
    result: &CheckResult,
    text_subject: &str,
) -> String {
    render_with(receipt, agency, file_name, result, text_subject, None)
}

/// [`render`] with a note after the receipt line (the version this one supersedes, the
/// findings an officer marked not applicable with the reasons).
pub fn render_with(
    receipt: &str,
    agency: Option<&str>,
    file_name: &str,
    result: &CheckResult,
    text_subject: &str,
    note: Option<&str>,
) -> String {
    // Over 80 lines on purpose: the HTML mail as one template, in the order the agency reads it; it
    // mirrors the plain-text `render::render_with` part for part, which a split would hide.
    let accepted = result.accepted();
    let other = super::render::other_year(result).filter(|_| accepted);
    let mut out = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;font-size:14px;color:#222;max-width:900px\">",
    );
    out.push_str(&format!(
        "<h2 style=\"color:{}\">{}</h2>",
        match (accepted, other) {
            (true, None) => "#1b5e20",
            (true, Some(_)) => "#7a5b00",
            (false, _) => "#b00020",
        },
        esc(text_subject)
    ));
    out.push_str(&format!(
        "<p>{}：</p><p>您单位提交的《{}》已收到，回执编号 <b>{}</b>。</p>",
        esc(agency.unwrap_or("（未登记单位）")),
        esc(file_name),
        esc(receipt)
    ));
    if let Some(note) = note {
        // Line by line: the superseded receipt, the officer's decisions with their reasons.
        out.push_str(&format!(
            "<p><b>{}</b></p>",
            esc(note).replace('\n', "<br>")
        ));
    }
    let (errors, warnings) = (result.errors(), result.warnings());
    // The same items as the plain text: grouped, the likely culprit first and labelled as
    // the cause, at most `MAX_ITEMS` (issue 24).
    let listing = super::items::listing(&result.findings, super::render::lead_items(result));
    let (errors_told, warnings_told) = super::items::counts(&listing, errors, warnings);
    out.push_str(&if let Some((year, season)) = other {
        format!(
            "<p style=\"background:#fff3c4;padding:8px\"><b>{}</b></p>",
            esc(&super::render::other_year_lines(year, season).0)
        )
    } else if accepted {
        format!("<p style=\"background:#e8f5e9;padding:8px\"><b>审核结果：已受理。</b>未发现错误{}。</p>",
            if warnings > 0 { format!("，有 {}供参考（不影响受理）", esc(&warnings_told)) } else { String::new() })
    } else {
        format!("<p style=\"background:#ffebee;padding:8px\"><b>审核结果：需修改。</b>发现 <b>{}</b>{}，请修改后重新提交。</p>",
            esc(&errors_told),
            if warnings > 0 { format!("、{}", esc(&warnings_told)) } else { String::new() })
    });
    if !listing.items.is_empty() {
        out.push_str("<ol>");
        for item in &listing.items {
            let color = match (item.culprit, item.severity) {
                (true, _) | (_, Severity::Error) => "#b00020",
                (_, Severity::Warning) => "#7a5b00",
            };
            let text = if item.culprit {
                format!("<b>{}</b>", esc(&item.text))
            } else {
                esc(&item.text)
            };
            out.push_str(&format!(
                "<li style=\"margin:6px 0\"><b style=\"color:{color}\">【{}】</b>{text}</li>",
                item.label()
            ));
        }
        out.push_str("</ol>");
        if listing.more_items > 0 {
            out.push_str(&format!(
                "<p>{}</p>",
                esc(&super::items::more_line(&listing, "本邮件末尾"))
            ));
        }
    }
    if let Some(report) = &result.report {
        out.push_str(&tables(report, &result.findings, false));
    }
    // Every finding, one line each, at the end when the list above grouped or left out any.
    let told: usize = listing.items.iter().map(|i| i.findings.len()).sum();
    if listing.more_items > 0 || told > listing.items.iter().filter(|i| !i.culprit).count() {
        out.push_str(&format!(
            "<h4 style=\"color:#555\">附：全部 {} 条审核意见明细</h4><ul style=\"color:#555;font-size:12px\">",
            result.findings.len()
        ));
        for f in &result.findings {
            out.push_str(&format!(
                "<li>【{}】{}</li>",
                f.severity.label(),
                esc(&f.message)
            ));
        }
        out.push_str("</ul>");
    }
    if let Some((year, season)) = other {
        out.push_str(&format!(
            "<p style=\"background:#fff3c4;padding:8px\"><b>{}</b></p>",
            esc(&super::render::other_year_lines(year, season).1)
        ));
    } else {
        out.push_str(if accepted {
        "<p>下一步：无需再做任何事。如需更正，直接提交新版本即可，新版本将替代旧版本。</p>"
    } else {
        "<p><b>下一步：</b>请按以上各条修改后，将修改后的报告重新放入原文件夹，系统会自动重新审核并回复。</p>"
    });
    }
    out.push_str("<p style=\"color:#888;font-size:12px\">本邮件由年度报告审核系统自动发送，请勿直接回复。</p></body></html>");
    out
}
