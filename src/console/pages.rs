//! The console's pages: server-rendered with maud (every value escaped unless wrapped in
//! `PreEscaped`, which only the mail's table renderer's output is), Chinese, no scripts.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::Console;
use super::auth::Visitor;
use crate::check::CheckResult;
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::status::AgencyStatus;
use crate::store::{
    MessageState, OutboxState, Store, Submission, SubmissionDetail, SubmissionState, Verdict,
};

const STYLESHEET: &str = include_str!("console.css");

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub(super) fn page(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A failed request: logged with the reason, answered without it.
pub fn internal(why: &str) -> Response {
    tracing::error!(error = why, "console: request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "500 内部错误：原因已记入守护进程的日志，请联系管理员。\n",
    )
        .into_response()
}

pub(super) fn not_found(v: &Visitor, what: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        layout(
            v,
            "未找到",
            html! { h1 { "未找到" } p { (what) } p { a href="/" { "返回总览" } } },
        ),
    )
}

/// Runs `f` on the console's connection on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    console: &Arc<Console>,
    f: impl FnOnce(&Console, &Store) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, Response> {
    let c = Arc::clone(console);
    match tokio::task::spawn_blocking(move || c.with_store(|store| f(&c, store))).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(&format!("{e:#}"))),
        Err(e) => Err(internal(&e.to_string())),
    }
}

/// Percent-encoding of a URL component (everything but the unreserved characters).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub use crate::time::china_time;

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · 年报审核" }
            link rel="stylesheet" href="/static/console.css";
        }
    }
}

pub(super) fn layout(v: &Visitor, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                header.top {
                    a.brand href="/" { "政府信息公开工作年度报告 · 审核台" }
                    span.who {
                        @if v.login {
                            (v.user.as_deref().unwrap_or(""))
                            "（" (v.role.map_or("", super::users::Role::label))
                            @if let Some(r) = &v.region { " · " span #user-region { (r) } }
                            "）"
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(v.csrf);
                                button type="submit" { "退出登录" }
                            }
                        } @else {
                            "本机访问，未设置用户"
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The login page (`status`: 200, or 401/429 with `message`).
pub fn login(csrf: &str, message: Option<&str>, status: StatusCode) -> Response {
    page(
        status,
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                (head("登录"))
                body {
                    main.login {
                        h1 { "年报审核台 · 登录" }
                        @if let Some(m) = message { p.error { (m) } }
                        form method="post" action="/login" {
                            input type="hidden" name="csrf" value=(csrf);
                            label { "用户名 " input type="text" name="name" autocomplete="username" required; }
                            label { "密码 " input type="password" name="password" autocomplete="current-password" required; }
                            button type="submit" { "登录" }
                        }
                    }
                }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------
// Overview

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    year: Option<i32>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    /// The region looked at (drill-down); default: the visitor's own, or the top.
    #[serde(default)]
    region: String,
}

/// One child region's row on the overview: its subtree rolled up.
#[derive(Debug, Clone, Default)]
struct RegionRow {
    name: String,
    agencies: usize,
    accepted: usize,
    rejected: usize,
    /// Without a submission (逾期 included), as the counts above the table.
    missing: usize,
    overdue: usize,
}

/// The overview's view of the tree: the region looked at, the way down to it, its child
/// regions' rows. Empty without `[[region]]`.
#[derive(Debug, Clone, Default)]
struct RegionView {
    at: Option<String>,
    /// The regions above `at` that the visitor may open, from the top.
    trail: Vec<String>,
    /// The visitor may go up to the top (not limited to a region).
    top: bool,
    children: Vec<RegionRow>,
    configured: bool,
}

/// Where an agency stands in the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Standing {
    Rejected,
    Overdue,
    /// Something received that does not count (held, unreadable, another year).
    Received,
    Missing,
    Accepted,
}

impl Standing {
    fn of(a: &AgencyStatus) -> Standing {
        match (a.submitted, a.verdict) {
            (true, Some(Verdict::Accepted)) => Standing::Accepted,
            (true, _) => Standing::Rejected,
            (false, _) if a.received.is_some() => Standing::Received,
            (false, _) if a.overdue => Standing::Overdue,
            (false, _) => Standing::Missing,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Standing::Accepted => "已受理",
            Standing::Rejected => "需修改",
            Standing::Missing => "未提交",
            Standing::Overdue => "逾期",
            Standing::Received => "已收到",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Standing::Accepted => "ok",
            Standing::Rejected => "bad",
            Standing::Missing => "missing",
            Standing::Overdue => "bad",
            Standing::Received => "missing",
        }
    }
}

/// The sortable columns: (key of `?sort=`, header).
const COLUMNS: &[(&str, &str)] = &[
    ("name", "单位"),
    ("folder", "文件夹"),
    ("status", "状态"),
    ("receipt", "最新回执"),
    ("file", "文件"),
    ("received", "收到时间"),
    ("errors", "错误"),
    ("warnings", "提示"),
    ("versions", "版本数"),
];

fn agency_label(a: &AgencyStatus) -> String {
    a.name
        .clone()
        .or_else(|| a.folder.clone())
        .unwrap_or_else(|| "（收件箱根目录，未归属单位）".into())
}

/// Whether the agency's name or folder contains `q` (case-insensitive for Latin letters).
fn matches(a: &AgencyStatus, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || [a.name.as_deref(), a.folder.as_deref()]
            .into_iter()
            .flatten()
            .any(|s| s.to_lowercase().contains(&q))
}

/// Sorts by a `?sort=` key (`-key`: descending); an unknown key keeps the configured order.
fn sort_rows(rows: &mut [&AgencyStatus], sort: &str) {
    let (key, descending) = match sort.strip_prefix('-') {
        Some(k) => (k, true),
        None => (sort, false),
    };
    match key {
        "name" => rows.sort_by_key(|a| agency_label(a)),
        "folder" => rows.sort_by_key(|a| a.folder.clone()),
        "status" => rows.sort_by_key(|a| Standing::of(a)),
        "receipt" => rows.sort_by_key(|a| a.receipt.clone()),
        "file" => rows.sort_by_key(|a| a.file.clone()),
        "received" => rows.sort_by_key(|a| a.received_at.clone()),
        "errors" => rows.sort_by_key(|a| a.errors),
        "warnings" => rows.sort_by_key(|a| a.warnings),
        "versions" => rows.sort_by_key(|a| a.submissions),
        _ => return,
    }
    if descending {
        rows.reverse();
    }
}

fn region_link(year: i32, q: &str, sort: &str, region: Option<&str>) -> String {
    let mut link = format!("/?year={year}");
    if let Some(r) = region {
        link.push_str(&format!("&region={}", enc(r)));
    }
    if !q.is_empty() {
        link.push_str(&format!("&q={}", enc(q)));
    }
    if !sort.is_empty() {
        link.push_str(&format!("&sort={}", enc(sort)));
    }
    link
}

pub async fn overview(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let at = match scoped_region(&console, &v, Some(query.region.clone())).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let markup = blocking(&console, move |c, store| {
        let season = c.season();
        let default = season.report_year();
        let year = query.year.unwrap_or(default);
        let years = crate::status::years(store, default)?;
        let mut status = crate::status::status(store, &c.config(), year)?;
        let scope = super::scope::Scope::load(c, store, &v)?;
        // Without a tree, as before; a user limited to a region the configuration no longer
        // has sees nothing (never everything).
        let (held, summary, regions) = if scope.tree.is_empty() && !scope.limited() {
            let held = crate::store::review::count_held(store.connection())?;
            let summary = crate::summary::from_status(store, &c.config(), &status)?;
            (held, summary, RegionView::default())
        } else {
            // The region looked at: its subtree counts, its child regions get a row
            // each, and its own agencies are listed (all of the subtree when searching).
            let view_scope = super::scope::Scope {
                tree: scope.tree.clone(),
                region: at.clone(),
            };
            let regions = region_view(&scope, at.as_deref(), &status.agencies);
            scope_status(&view_scope, &mut status);
            let folders = status
                .agencies
                .iter()
                .filter_map(|a| a.folder.clone())
                .collect();
            let summary = crate::summary::from_status_in(
                store,
                &c.config(),
                &status,
                view_scope.limited().then_some(&folders),
            )?;
            let held = if view_scope.limited() {
                i64::try_from(status.agencies.iter().filter(|a| a.held).count()).unwrap_or(0)
            } else {
                crate::store::review::count_held(store.connection())?
            };
            (held, summary, regions)
        };
        // A search lists the whole subtree's agencies (those of `status`); without one, the
        // region's own agencies are listed below its child regions' rows.
        let listed: Option<Vec<AgencyStatus>> = (regions.configured && query.q.trim().is_empty())
            .then(|| {
                status
                    .agencies
                    .iter()
                    .filter(|a| {
                        a.folder.as_deref().and_then(|f| scope.tree.region_of(f)) == at.as_deref()
                    })
                    .cloned()
                    .collect()
            });
        Ok(overview_page(
            &v,
            (year, held),
            (year == default).then_some(season),
            &years,
            (&status, &summary),
            &query,
            (&regions, listed.as_deref()),
        ))
    })
    .await;
    match markup {
        Ok(m) => page(StatusCode::OK, m),
        Err(r) => r,
    }
}

/// The rows of `at`'s child regions (each rolled up over its subtree) from `all` agencies.
fn region_view(scope: &super::scope::Scope, at: Option<&str>, all: &[AgencyStatus]) -> RegionView {
    let tree = &scope.tree;
    let mut children: Vec<RegionRow> = tree
        .children(at)
        .iter()
        .map(|name| RegionRow {
            name: name.clone(),
            ..RegionRow::default()
        })
        .collect();
    for a in all {
        let Some(region) = a.folder.as_deref().and_then(|f| tree.region_of(f)) else {
            continue;
        };
        let Some(child) = tree.child_toward(at, region) else {
            continue;
        };
        let Some(row) = children.iter_mut().find(|r| r.name == child) else {
            continue;
        };
        row.agencies += 1;
        match Standing::of(a) {
            Standing::Accepted => row.accepted += 1,
            Standing::Rejected => row.rejected += 1,
            Standing::Overdue => {
                row.missing += 1;
                row.overdue += 1;
            }
            Standing::Missing => row.missing += 1,
            Standing::Received => {}
        }
    }
    let mut trail = at.map(|r| tree.path(r)).unwrap_or_default();
    trail.pop();
    trail.retain(|r| scope.region_visible(r));
    RegionView {
        at: at.map(str::to_string),
        trail,
        top: !scope.limited(),
        children,
        configured: true,
    }
}

/// The child regions' table (已受理 / 需修改 / 未提交 / 逾期, rolled up), each a link down.
fn regions_table(year: i32, regions: &RegionView) -> Markup {
    html! {
        nav.trail #region-trail {
            "地区："
            @if regions.top {
                @if regions.at.is_some() { a href=(region_link(year, "", "", None)) { "全部" } } @else { strong { "全部" } }
                " › "
            }
            @for r in &regions.trail {
                a href=(region_link(year, "", "", Some(r))) { (r) } " › "
            }
            @if let Some(at) = &regions.at { strong #region-at { (at) } }
        }
        @if !regions.children.is_empty() {
            table.overview #regions {
                thead { tr { th { "下级地区" } th { "单位数" } th { "已受理" } th { "需修改" } th { "未提交" } th { "其中逾期" } } }
                tbody {
                    @for r in &regions.children {
                        tr.region {
                            td { a href=(region_link(year, "", "", Some(&r.name))) { (r.name) } }
                            td.num { (r.agencies) }
                            td.num.ok { (r.accepted) }
                            td.num.bad { (r.rejected) }
                            td.num.missing { (r.missing) }
                            td.num.bad { (r.overdue) }
                        }
                    }
                }
            }
        }
    }
}

fn overview_page(
    v: &Visitor,
    (year, held): (i32, i64),
    season: Option<crate::season::Season>,
    years: &[i32],
    (status, summary): (&crate::status::Status, &crate::summary::Summary),
    query: &OverviewQuery,
    (regions, listed): (&RegionView, Option<&[AgencyStatus]>),
) -> Markup {
    let (agencies, files) = (&status.agencies, status.submissions.len());
    let count = |s: Standing| agencies.iter().filter(|a| Standing::of(a) == s).count();
    let (q, sort) = (query.q.trim(), query.sort.as_str());
    let at = regions.at.as_deref();
    let overview_link = |year: i32, q: &str, sort: &str| region_link(year, q, sort, at);
    let mut rows: Vec<&AgencyStatus> = listed
        .unwrap_or(agencies)
        .iter()
        .filter(|a| matches(a, q))
        .collect();
    sort_rows(&mut rows, sort);
    let title = match at {
        Some(r) => format!("{r} · {year} 年度报告报送情况"),
        None => format!("{year} 年度报告报送情况"),
    };
    let export_suffix = at
        .map(|r| format!("?region={}", enc(r)))
        .unwrap_or_default();
    layout(
        v,
        &title,
        html! {
            h1 { (title) }
            @if let Some(s) = season {
                p.season #season {
                    "当前报送季：" (s.report_year()) " 年度报告，" (s.filing) " 年报送。"
                    @if let Some((filing, closed)) = s.previous {
                        "上一季（" (filing - 1) " 年度报告）已于 " (closed.to_string()) " 截止："
                        a href=(overview_link(filing - 1, "", "")) { "查看 " (filing - 1) " 年度" }
                    }
                }
            }
            nav.years {
                "年度："
                @for y in years {
                    @if *y == year { strong { (y) } } @else { a href=(overview_link(*y, q, sort)) { (y) } }
                    " "
                }
            }
            p.counts {
                span.ok { "已受理 " strong #count-accepted { (count(Standing::Accepted)) } }
                span.bad { "需修改 " strong #count-rejected { (count(Standing::Rejected)) } }
                // 未提交 counts every agency without a submission, 逾期 those past the deadline.
                span.missing { "未提交 " strong #count-missing { (count(Standing::Missing) + count(Standing::Overdue)) } }
                span.bad { "其中逾期 " strong #count-overdue { (count(Standing::Overdue)) } }
                span.bad { "退回未改 " strong #count-rework { (agencies.iter().filter(|a| a.rework).count()) } }
                span.missing { "已收到未受理 " strong #count-received { (count(Standing::Received)) } }
                span { "共 " strong #count-agencies { (agencies.len()) } " 个单位，收到文件 " (files) " 份" }
                span.missing { a href="/review" { "待复核 " strong #count-held { (held) } } }
                span.missing { a href="#unassigned" { "待归属 " strong #count-unassigned { (status.unassigned.len()) } } }
                span { a href="/mail" { "邮件队列" } }
            }
            @if !status.other_years.is_empty() {
                p.note #other-years {
                    @for o in &status.other_years {
                        a href=(overview_link(i32::try_from(o.year).unwrap_or(year), q, sort)) {
                            "另有 " (o.year) " 年度 " (o.submissions) " 份"
                        }
                        " "
                    }
                }
            }
            @if regions.configured { (regions_table(year, regions)) }
            form.search method="get" action="/" {
                input type="hidden" name="year" value=(year);
                @if let Some(r) = at { input type="hidden" name="region" value=(r); }
                @if !sort.is_empty() { input type="hidden" name="sort" value=(sort); }
                input type="search" name="q" value=(q) placeholder="单位名称或文件夹，如“街道”“镇”";
                " "
                button type="submit" { "搜索" }
                @if !q.is_empty() { " " a href=(overview_link(year, "", sort)) { "清除" } }
            }
            @if !q.is_empty() {
                p.found { "“" (q) "”：" (rows.len()) " / " (agencies.len()) " 个单位" }
            }
            (crate::summary::pictures(summary))
            p.export {
                a href=(format!("/summary/{year}")) { "打印本年度概况" } " · "
                "导出本年度："
                a href=(format!("/export/{year}.csv{export_suffix}")) { "CSV" } " · "
                a href=(format!("/export/{year}.xlsx{export_suffix}")) { "Excel" } " · "
                a href=(format!("/export/{year}.json{export_suffix}")) { "JSON" }
            }
            table.overview {
                thead {
                    tr {
                        @for (key, label) in COLUMNS {
                            @let next = if sort == *key { format!("-{key}") } else { key.to_string() };
                            th {
                                a href=(overview_link(year, q, &next)) {
                                    (label)
                                    @if sort == *key { " ▲" } @else if sort.strip_prefix('-') == Some(*key) { " ▼" }
                                }
                            }
                        }
                    }
                }
                tbody {
                    @for a in &rows {
                        @let standing = Standing::of(a);
                        tr {
                            td {
                                @match &a.folder {
                                    Some(f) => a href=(format!("/agency/{}", enc(f))) { (agency_label(a)) },
                                    None => (agency_label(a)),
                                }
                                @if !a.configured { " " span.note { "未登记" } }
                            }
                            td { (a.folder.as_deref().unwrap_or("")) }
                            @let got = a.received.as_ref();
                            td class=(standing.class()) {
                                (standing.label())
                                @if let Some(r) = got { "：" (r.what) }
                                @if a.reviewed { " " span.note { "复核" } }
                                @if a.held { " " span.note { "待复核" } }
                                @if a.rework { " " span.note { "退回未改" } }
                            }
                            td {
                                @if let Some(r) = a.receipt.as_ref().or(got.map(|r| &r.receipt)) {
                                    a href=(format!("/submission/{}", enc(r))) { (r) }
                                }
                            }
                            td { (a.file.as_deref().or(got.map(|r| r.file.as_str())).unwrap_or("")) }
                            td { (a.received_at.as_deref().or(got.map(|r| r.received_at.as_str())).map(china_time).unwrap_or_default()) }
                            td.num { (a.errors.map(|n| n.to_string()).unwrap_or_default()) }
                            td.num { (a.warnings.map(|n| n.to_string()).unwrap_or_default()) }
                            td.num { (a.submissions) }
                        }
                    }
                }
            }
            @if !status.unassigned.is_empty() {
                h2 #unassigned { "待归属（收件箱根目录的文件，不计入统计）" }
                table.overview {
                    thead { tr { th { "回执编号" } th { "文件" } th { "收到时间" } th { "审核结果" } } }
                    tbody {
                        @for s in &status.unassigned {
                            tr {
                                td { a href=(format!("/submission/{}", enc(&s.receipt))) { (s.receipt) } }
                                td { (s.file) }
                                td { (china_time(&s.received_at)) }
                                td { (match s.verdict { Some(Verdict::Accepted) => "已受理", Some(Verdict::Rejected) => "需修改", None => "—" }) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `/summary/{year}`: the season on one printable page (what goes to the leadership).
pub async fn summary(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(year): Path<String>,
) -> Response {
    let Ok(year) = year.parse::<i32>() else {
        return not_found(&v, "没有这个年度。");
    };
    let v2 = v.clone();
    let found = blocking(&console, move |c, store| {
        if v2.region.is_none() {
            return crate::summary::summary(store, &c.config(), year);
        }
        let scope = super::scope::Scope::load(c, store, &v2)?;
        let mut status = crate::status::status(store, &c.config(), year)?;
        scope_status(&scope, &mut status);
        let folders = status
            .agencies
            .iter()
            .filter_map(|a| a.folder.clone())
            .collect();
        crate::summary::from_status_in(store, &c.config(), &status, Some(&folders))
    })
    .await;
    let s = match found {
        Ok(s) => s,
        Err(r) => return r,
    };
    let title = format!("{year} 年度政府信息公开工作年度报告报送情况");
    page(
        StatusCode::OK,
        layout(
            &v,
            &title,
            html! {
                h1 { (title) }
                p.noprint { "本页可直接打印（浏览器“打印”）；命令行可导出同样内容的 Excel 表。" }
                (crate::summary::table(&s))
                (crate::summary::pictures(&s))
            },
        ),
    )
}

// ---------------------------------------------------------------------------------------
// Submission

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

fn verdict_shown(sub: &Submission) -> (&'static str, &'static str) {
    match (sub.state, sub.verdict) {
        (SubmissionState::Duplicate, _) => ("重复提交", "missing"),
        (SubmissionState::Failed, _) => ("无法审核", "bad"),
        (SubmissionState::Archived, _) => ("待审核", "missing"),
        (_, Some(Verdict::Accepted)) => ("已受理", "ok"),
        (_, _) => ("需修改", "bad"),
    }
}

fn outbox_state(s: OutboxState) -> &'static str {
    match s {
        OutboxState::Pending => "待发送",
        OutboxState::Sent => "已发送",
        OutboxState::Failed => "发送失败",
        OutboxState::Held => "暂缓（待复核）",
        OutboxState::Unconfirmed => "已发出，未确认送达",
    }
}

fn submission_page(v: &Visitor, view: &SubmissionView) -> Markup {
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

fn attachment(
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

// ---------------------------------------------------------------------------------------
// Agency

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

// ---------------------------------------------------------------------------------------
// Export

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// Only this region's subtree (within the visitor's).
    region: Option<String>,
}

/// The region a listing is asked for (`?region=`), or the visitor's own: 403 when it is
/// not a configured region within the visitor's reach.
async fn scoped_region(
    console: &Arc<Console>,
    v: &Visitor,
    asked: Option<String>,
) -> Result<Option<String>, Response> {
    let asked = asked.filter(|r| !r.is_empty());
    let Some(r) = asked else {
        return Ok(v.region.clone());
    };
    let v2 = v.clone();
    let r2 = r.clone();
    let visible = blocking(console, move |c, store| {
        Ok(super::scope::Scope::load(c, store, &v2)?.region_visible(&r2))
    })
    .await?;
    if visible {
        Ok(Some(r))
    } else {
        Err(super::scope::outside())
    }
}

/// Keeps what `scope` reaches: its agencies and their submissions; the files at the
/// inbox's top level and the other years' counts are the whole office's (left out).
fn scope_status(scope: &super::scope::Scope, status: &mut crate::status::Status) {
    if !scope.limited() {
        return;
    }
    status
        .agencies
        .retain(|a| scope.folder(a.folder.as_deref()));
    status
        .submissions
        .retain(|s| scope.folder(s.agency_folder.as_deref()));
    status.unassigned.clear();
    status.other_years.clear();
}

/// `/export/2025.csv|xlsx|json`: `nianbao export` of that report year (`?region=`: one
/// region's subtree; a user of a region gets its own).
pub async fn export(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let (year, format) = match file.split_once('.') {
        Some((y, f)) if ["csv", "xlsx", "json"].contains(&f) => match y.parse::<i32>() {
            Ok(y) if (1990..=9999).contains(&y) => (y, f.to_string()),
            _ => {
                return not_found(
                    &v,
                    "没有这个导出文件：请用总览页“导出本年度”的链接（CSV、Excel 或 JSON）。",
                );
            }
        },
        _ => {
            return not_found(
                &v,
                "没有这个导出文件：请用总览页“导出本年度”的链接（CSV、Excel 或 JSON）。",
            );
        }
    };
    let content_type = match format.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json" => "application/json",
        _ => "text/csv; charset=utf-8",
    };
    let region = match scoped_region(&console, &v, query.region).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let bytes = blocking(&console, move |c, store| {
        let e = crate::export::export_in(store, &c.config(), year, region.as_deref())?;
        match format.as_str() {
            "xlsx" => crate::export::to_xlsx(&e),
            "json" => crate::export::to_json(&e),
            _ => crate::export::to_csv(&e),
        }
    })
    .await;
    match bytes {
        Ok(b) => {
            let name = format!("nianbao-{file}");
            attachment(b, content_type, &name, &name)
        }
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

    fn agency(name: &str, folder: &str, verdict: Option<Verdict>, received: &str) -> AgencyStatus {
        AgencyStatus {
            folder: Some(folder.into()),
            name: Some(name.into()),
            configured: true,
            submitted: verdict.is_some(),
            receipt: None,
            file: None,
            received_at: Some(received.into()),
            verdict,
            errors: None,
            warnings: None,
            submissions: 0,
            deadline: None,
            overdue: false,
            reviewed: false,
            held: false,
            rework: false,
            received: None,
        }
    }

    #[test]
    fn search_and_sort() {
        let all = [
            agency("东湖街道办事处", "dh", Some(Verdict::Accepted), "2"),
            agency("花山镇人民政府", "hs", None, "1"),
            agency("市财政局", "Caizheng", Some(Verdict::Rejected), "3"),
        ];
        let names = |q: &str| -> Vec<String> {
            all.iter()
                .filter(|a| matches(a, q))
                .map(agency_label)
                .collect()
        };
        assert_eq!(names("街道"), ["东湖街道办事处"]);
        assert_eq!(names("镇"), ["花山镇人民政府"]);
        assert_eq!(names("caiz"), ["市财政局"]);
        assert_eq!(names("").len(), 3);
        let mut rows: Vec<&AgencyStatus> = all.iter().collect();
        sort_rows(&mut rows, "-received");
        assert_eq!(agency_label(rows[0]), "市财政局");
        sort_rows(&mut rows, "status");
        assert_eq!(agency_label(rows[0]), "市财政局", "需修改 first");
    }
}
