//! One agency (`/agency/{folder}`): its facts, submissions, reminders, and two of its
//! reports compared.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::Console;
use super::auth::Visitor;
use super::layout::{blocking, china_time, enc, layout, not_found, page};
use super::submission::{outbox_state, verdict_shown};
use crate::store::{OutboxState, Submission, SubmissionState};

/// Which two submissions the agency page compares (`?old=RECEIPT&new=RECEIPT`); by default
/// the latest report of each of the two most recent years.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CompareQuery {
    #[serde(default)]
    old: Option<String>,
    #[serde(default)]
    new: Option<String>,
}

/// The submissions that can be compared: checked, with a report read, newest first.
fn comparable(subs: &[Submission]) -> Vec<&Submission> {
    subs.iter()
        .filter(|s| s.state == SubmissionState::Checked && s.year.is_some())
        .collect()
}

/// The default pair to compare among `candidates` (newest first): (newer, older).
fn default_pair<'a>(
    candidates: &[&'a Submission],
) -> (Option<&'a Submission>, Option<&'a Submission>) {
    let top = candidates.iter().filter_map(|s| s.year).max();
    let newest = candidates.iter().find(|s| s.year == top).copied();
    let older = newest.and_then(|n| {
        candidates
            .iter()
            .find(|s| s.year < n.year)
            .or_else(|| candidates.iter().find(|s| s.year == n.year && s.id != n.id))
            .copied()
    });
    (newest, older)
}

/// Reads both reports from the store and compares them (`crate::compare`, as `nianbao
/// compare` does for two files).
fn compare_of(
    store: &crate::store::Store,
    subs: &[Submission],
    query: &CompareQuery,
) -> anyhow::Result<Option<(String, String, crate::compare::Comparison)>> {
    let candidates = comparable(subs);
    let by_receipt = |r: &Option<String>| {
        r.as_deref()
            .and_then(|r| candidates.iter().find(|s| s.receipt == r).copied())
    };
    // By default: the newest report (the latest version of the newest year) against the
    // previous year's (its latest version); with no earlier year, the two latest versions.
    let (newest, older) = default_pair(&candidates);
    let (Some(old), Some(new)) = (
        by_receipt(&query.old).or(older),
        by_receipt(&query.new).or(newest),
    ) else {
        return Ok(None);
    };
    let report = |s: &Submission| -> anyhow::Result<Option<crate::report::Report>> {
        Ok(crate::store::submission_detail(store.connection(), s.id)?
            .and_then(|d| d.report_json)
            .and_then(|j| serde_json::from_str(&j).ok()))
    };
    let (Some(old_report), Some(new_report)) = (report(old)?, report(new)?) else {
        return Ok(None);
    };
    Ok(Some((
        old.receipt.clone(),
        new.receipt.clone(),
        crate::compare::compare(
            &old.original_name,
            &old_report,
            &new.original_name,
            &new_report,
        ),
    )))
}

/// Two years side by side: the form to choose them, the tables' values with the differing
/// ones marked, and how much of the narrative is the same.
fn compare_section(
    folder: &str,
    subs: &[Submission],
    compared: Option<&(String, String, crate::compare::Comparison)>,
) -> Markup {
    let candidates = comparable(subs);
    if candidates.len() < 2 {
        return html! {};
    }
    let label = |s: &Submission| {
        format!(
            "{} 年度 {}",
            s.year.map(|y| y.to_string()).unwrap_or_default(),
            s.receipt
        )
    };
    html! {
        h2 #compare { "两个年度对比" }
        form.compare method="get" action=(format!("/agency/{}#compare", enc(folder))) {
            label { "旧 " select name="old" {
                @for s in &candidates {
                    option value=(s.receipt) selected[compared.is_some_and(|c| c.0 == s.receipt)] { (label(s)) }
                }
            } }
            " "
            label { "新 " select name="new" {
                @for s in &candidates {
                    option value=(s.receipt) selected[compared.is_some_and(|c| c.1 == s.receipt)] { (label(s)) }
                }
            } }
            " " button type="submit" { "对比" }
        }
        @if let Some((old, new, c)) = compared {
            p {
                "旧：" a href=(format!("/submission/{}", enc(old))) { (old) } "（" (c.old.file) "）；"
                "新：" a href=(format!("/submission/{}", enc(new))) { (new) } "（" (c.new.file) "）。"
                "表格中 " strong #compare-differing { (c.differing()) } " 个数值不同；正文 "
                (c.narrative.shared) "/" (c.narrative.total) " 句相同。"
            }
            table.compare {
                thead { tr { th { "表" } th { "项目" } th { "栏目" } th { "旧" } th { "新" } } }
                tbody {
                    @for row in &c.values {
                        tr class=[row.differs.then_some("differs")] {
                            td { (row.table) }
                            td { (row.label) }
                            td { (row.item) }
                            td.num { (row.old.as_deref().unwrap_or("—")) }
                            td.num { (row.new.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
            table.messages {
                thead { tr { th { "正文部分" } th { "相同句数" } th { "例句" } } }
                tbody {
                    @for section in &c.sections {
                        tr {
                            td { (section.heading) }
                            td.num { (section.overlap.shared) "/" (section.overlap.total) }
                            td { (section.overlap.example.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        } @else {
            p { "所选的两份报告无法对比（未读出报告内容）。" }
        }
    }
}

pub async fn agency(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(folder): Path<String>,
    Query(query): Query<CompareQuery>,
) -> Response {
    if let Err(r) = super::scope::folder_allowed(&console, &v, &folder).await {
        return r;
    }
    let found = blocking(&console, move |c, store| {
        let subs = crate::store::submissions_of_agency(store.connection(), &folder)?;
        let configured = c.config().agency(&folder).map(|a| a.name.clone());
        if configured.is_none() && subs.is_empty() && !in_inbox(&c.config(), &folder) {
            return Ok(None);
        }
        let name = configured
            .or_else(|| subs.iter().find_map(|s| s.agency_name.clone()))
            .unwrap_or_else(|| folder.clone());
        let reminders = crate::deadlines::reminders_of(store.connection(), &folder)?;
        let compared = compare_of(store, &subs, &query)?;
        let facts = agency_facts(&c.config(), &folder);
        Ok(Some((folder, name, subs, reminders, compared, facts)))
    })
    .await;
    let (folder, name, subs, reminders, compared, facts) = match found {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(&v, "没有这个单位。"),
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        layout(
            &v,
            &name,
            html! {
                h1 { (name) }
                p { "文件夹：" code { (folder) } "，共 " (subs.len()) " 份提交（各年度，新的在前）。" }
                (facts)
                @if subs.is_empty() {
                    p { "尚未提交。" }
                } @else {
                    table.overview {
                        thead { tr { th { "年度" } th { "回执编号" } th { "文件" } th { "收到时间" } th { "提交账号" } th { "结果" } th { "错误" } th { "提示" } th { "备注" } } }
                        tbody {
                            @for s in &subs {
                                @let (verdict, class) = verdict_shown(s);
                                tr {
                                    td { (s.year.map(|y| y.to_string()).unwrap_or_else(|| "—".into())) }
                                    td { a href=(format!("/submission/{}", enc(&s.receipt))) { (s.receipt) } }
                                    td { (s.original_name) }
                                    td { (china_time(&s.received_at)) }
                                    td { (s.owner.as_ref().map(|o| o.label()).unwrap_or_else(|| "—".into())) }
                                    td class=(class) { (verdict) @if s.reviewed { " " span.note { "复核" } } }
                                    td.num { (s.errors.map(|n| n.to_string()).unwrap_or_default()) }
                                    td.num { (s.warnings.map(|n| n.to_string()).unwrap_or_default()) }
                                    td { @if s.superseded_by.is_some() { "已被新版本替代" } }
                                }
                            }
                        }
                    }
                }
                (compare_section(&folder, &subs, compared.as_ref()))
                (reminders_table(&reminders))
            },
        ),
    )
}

/// What the office knows of an agency: its kind, its deadline this season, its addresses.
fn agency_facts(config: &crate::config::Config, folder: &str) -> Markup {
    let agency = config.agency_or_folder(folder);
    let (kind, guessed) = crate::deadlines::kind_of(config, &agency);
    let season = crate::status::season_year(config);
    let deadline = crate::deadlines::deadline_of(config, &agency, season + 1);
    html! {
        dl.facts #agency-facts {
            dt { "类型" }
            dd { (kind.label()) @if guessed { "（按名称推断）" } }
            dt { "截止日期" }
            dd { (deadline.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) "（" (season) " 年度报告）" }
            dt { "邮箱" }
            dd {
                @if agency.email.is_empty() {
                    "未登记邮箱（审核意见发给管理员）"
                } @else {
                    (agency.email.join("、"))
                }
            }
        }
    }
}

/// The reminders (催报) queued for an agency, with their delivery state.
fn reminders_table(reminders: &[crate::deadlines::SentReminder]) -> Markup {
    html! {
        h2 { "催报提醒" }
        @if reminders.is_empty() {
            p #reminders-none { "未发过催报提醒。" }
        } @else {
            table.messages #reminders {
                thead { tr { th { "年度" } th { "提醒" } th { "收件人" } th { "状态" } th { "排队时间" } th { "发送时间" } th { "错误" } } }
                tbody {
                    @for r in reminders {
                        tr.reminder {
                            td { (r.year) }
                            td { (r.stage.map_or("提醒", crate::deadlines::Stage::label)) }
                            td { (r.message.recipient) }
                            td class=(match r.message.state { OutboxState::Sent | OutboxState::Unconfirmed => "ok", OutboxState::Failed => "bad", OutboxState::Pending | OutboxState::Held => "missing" }) { (outbox_state(r.message.state)) }
                            td { (china_time(&r.message.created_at)) }
                            td { (r.message.sent_at.as_deref().map(china_time).unwrap_or_default()) }
                            td { (r.message.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// Whether `folder` is an agency folder of the inbox that the watcher reads (an
/// unconfigured folder that has sent nothing yet is still an agency of the overview).
fn in_inbox(config: &crate::config::Config, folder: &str) -> bool {
    !folder.is_empty()
        && !folder.contains(['/', '\\'])
        && folder != ".."
        && !crate::watch::is_ignored_name(folder)
        && folder != crate::watch::RECEIPT_DIR
        && std::fs::symlink_metadata(config.inbox.join(folder)).is_ok_and(|m| m.is_dir())
}
