//! The overview (`/`): every agency's standing in a report year, searchable and sortable,
//! through the region tree; and the season's summary (`/summary/{year}`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::Console;
use super::auth::Visitor;
use super::layout::{blocking, china_time, enc, layout, not_found, page};
use super::scope::{scope_status, scoped_region};
use crate::status::AgencyStatus;
use crate::store::Verdict;

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
    // Over 80 lines on purpose: a page is one maud template, top to bottom as it is shown: split,
    // its parts would pass the same query, status and links around and read out of the page's
    // order.
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

#[cfg(test)]
mod tests {
    use super::*;

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
