//! The console's actions and their pages (issue 16): resend, officer review (人工复核), the
//! release of held feedback, the 待复核 queue (`/review`) and the mail queue (`/mail`).
//!
//! Every action is a POST (its CSRF token checked by `auth::guard`) and needs the `admin`
//! role (403 otherwise). It writes on a connection of the console's own, in one
//! transaction (`store::review`), then wakes the daemon's mail task so that what it queued
//! goes out at once.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use super::Console;
use super::auth::{Visitor, admin_only, may};
use super::layout::{blocking, china_time, enc, internal, layout, not_found, page};
use super::submission::agency_name;
use super::users::Role;
use crate::finding::Finding;
use crate::store::review::{self as rv, Action, Decision, QueuedMessage, Review};
use crate::store::{MessageKind, OutboxState, Store, Submission, SubmissionState, Verdict};

/// The longest reason kept (a few paragraphs).
pub(super) const MAX_REASON_CHARS: usize = 2000;

/// The reason recorded with the verdict a release gives when the errors were all marked
/// not applicable while the feedback was held.
const RELEASED_WITHOUT_ERRORS: &str =
    "标为不适用的审核意见删除后，报告没有错误，随审核意见发出予以受理";

/// Messages sent lately shown on `/mail`.
const RECENT_SENT: usize = 50;

impl Console {
    /// Runs `f` on the console's writing connection (opened on first use; dropped after an
    /// error). Blocking.
    fn with_writer<T>(&self, f: impl FnOnce(&Store) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(Store::open(&self.db)?);
        }
        let Some(store) = slot.as_ref() else {
            anyhow::bail!("no database connection");
        };
        let result = f(store);
        if result.is_err() {
            *slot = None;
        }
        result
    }
}

/// What an action came to.
pub(super) enum Done {
    /// Done: back to the submission's page saying what was done (`?done=`).
    Confirmed(String, &'static str),
    NotFound,
    /// Refused, with why (409).
    Refused(String),
}

/// Runs an action on the writing connection, then answers it.
pub(super) async fn act(
    console: &Arc<Console>,
    v: &Visitor,
    f: impl FnOnce(&Console, &Store) -> anyhow::Result<Done> + Send + 'static,
) -> Response {
    let c = Arc::clone(console);
    let done = tokio::task::spawn_blocking(move || c.with_writer(|store| f(&c, store))).await;
    match done {
        Ok(Ok(Done::Confirmed(receipt, what))) => {
            (console.kick)();
            (
                StatusCode::SEE_OTHER,
                [(
                    header::LOCATION,
                    format!("/submission/{}?done={what}#review", enc(&receipt)),
                )],
            )
                .into_response()
        }
        Ok(Ok(Done::NotFound)) => not_found(v, "没有这个回执编号的提交。"),
        Ok(Ok(Done::Refused(why))) => page(
            StatusCode::CONFLICT,
            layout(
                v,
                "未执行",
                html! { h1 { "未执行" } p.error { (why) } p { a href="/" { "返回总览" } } },
            ),
        ),
        Ok(Err(e)) => internal(&format!("{e:#}")),
        Err(e) => internal(&e.to_string()),
    }
}

/// How the mail tells the findings `seqs`: their grouped item's text when they are one
/// item, else their messages.
fn item_text(findings: &[Finding], seqs: &[i64]) -> String {
    let wanted: Vec<usize> = seqs
        .iter()
        .filter_map(|&s| usize::try_from(s).ok())
        .collect();
    crate::mail::items::group(findings)
        .into_iter()
        .find(|i| i.findings == wanted)
        .map(|i| i.text)
        .unwrap_or_else(|| {
            wanted
                .iter()
                .filter_map(|&i| findings.get(i).map(|f| f.message.as_str()))
                .collect::<Vec<_>>()
                .join("\n  ")
        })
}

/// The submission's file name without its folder.
fn base_name(sub: &Submission) -> String {
    sub.original_name
        .rsplit('/')
        .next()
        .unwrap_or(&sub.original_name)
        .to_string()
}

/// An admin's action on submission `receipt`: refused (403) for a viewer, or outside the
/// user's region.
pub(super) async fn admin_on(
    console: &Arc<Console>,
    v: &Visitor,
    receipt: &str,
) -> Result<(), Response> {
    if !may(v, Role::Admin) {
        return Err(admin_only());
    }
    super::scope::receipt_allowed(console, v, receipt).await
}

/// Who acted, as the history shows it: the daemon as 系统.
fn who(reviewer: &str) -> &str {
    if reviewer == rv::DAEMON {
        "系统"
    } else {
        reviewer
    }
}

/// Who acted, for the history.
pub(super) fn reviewer(v: &Visitor) -> String {
    v.user.clone().unwrap_or_else(|| "本机管理员".into())
}

/// `POST /submission/{receipt}/resend`: the submission's answer queued again.
pub async fn resend(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
) -> Response {
    if let Err(r) = admin_on(&console, &v, &receipt).await {
        return r;
    }
    let who = reviewer(&v);
    act(&console, &v, move |_, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        if let Some(office) = crate::bundle::origin_of(store.connection(), sub.id)? {
            return Ok(Done::Refused(format!(
                "这份提交由{office}受理，经数据包导入本系统：复核和发信由{office}负责，请在其系统中操作。"
            )));
        }
        let conn = store.connection();
        if rv::is_held(conn, sub.id)? {
            return Ok(Done::Refused(
                "审核意见暂缓发出（待复核）：请先发出或作出复核决定。".into(),
            ));
        }
        let n = rv::resend(conn, sub.id, &who, &crate::time::now_utc())?;
        if n == 0 {
            return Ok(Done::Refused("这份提交没有可重新发送的消息。".into()));
        }
        tracing::info!(receipt = %sub.receipt, user = %who, messages = n, "console: resent");
        Ok(Done::Confirmed(sub.receipt, Action::Resend.as_str()))
    })
    .await
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    finding: Option<i64>,
    /// The findings of one grouped item, `3,4,5` (one decision for all of them).
    #[serde(default)]
    findings: String,
}

/// `POST /submission/{receipt}/review`: release, accept, return, or a finding not
/// applicable, with a reason (but for a release).
pub async fn decide(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Response {
    // Over 80 lines on purpose: one handler for the four decisions: they share the checks
    // (scope, imported or not, held or not, reason); the branches differ only in what is
    // recorded and told, side by side here.
    if let Err(r) = admin_on(&console, &v, &receipt).await {
        return r;
    }
    let who = reviewer(&v);
    act(&console, &v, move |c, store| {
        let Some(action) = Action::parse(&form.action).filter(|a| {
            matches!(
                a,
                Action::Release | Action::Accept | Action::Return | Action::NotApplicable
            )
        }) else {
            return Ok(Done::Refused(format!("未知的操作 {:?}。", form.action)));
        };
        let reason: String = form.reason.trim().chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() && action != Action::Release {
            return Ok(Done::Refused("请填写理由。".into()));
        }
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        if let Some(office) = crate::bundle::origin_of(store.connection(), sub.id)? {
            return Ok(Done::Refused(format!(
                "这份提交由{office}受理，经数据包导入本系统：复核和发信由{office}负责，请在其系统中操作。"
            )));
        }
        let conn = store.connection();
        if sub.state != SubmissionState::Checked {
            return Ok(Done::Refused("只有已审核的提交可以复核。".into()));
        }
        let held = rv::is_held(conn, sub.id)?;
        let history = rv::reviews_of(conn, sub.id)?;
        let mut finding_text = None;
        let mut seqs: Vec<i64> = Vec::new();
        match action {
            Action::Release if !held => {
                return Ok(Done::Refused("审核意见没有暂缓，已经发出。".into()));
            }
            Action::Accept if sub.verdict == Some(Verdict::Accepted) => {
                return Ok(Done::Refused("审核结果已是“已受理”。".into()));
            }
            Action::Return if sub.verdict == Some(Verdict::Rejected) => {
                return Ok(Done::Refused("审核结果已是“需修改”。".into()));
            }
            Action::NotApplicable => {
                let findings: Vec<Finding> = crate::store::findings(conn, sub.id)?;
                let asked: Option<Vec<i64>> = if form.findings.trim().is_empty() {
                    form.finding.map(|f| vec![f])
                } else {
                    form.findings
                        .split(',')
                        .map(|x| x.trim().parse().ok())
                        .collect()
                };
                let Some(asked) = asked.filter(|a| {
                    !a.is_empty()
                        && a.iter().all(|&seq| {
                            usize::try_from(seq).is_ok_and(|seq| seq < findings.len())
                        })
                }) else {
                    return Ok(Done::Refused("没有这一条审核意见。".into()));
                };
                seqs = asked
                    .into_iter()
                    .filter(|&seq| {
                        !history.iter().any(|r| {
                            r.action == Action::NotApplicable && r.finding_seq == Some(seq)
                        })
                    })
                    .collect();
                seqs.sort_unstable();
                seqs.dedup();
                if seqs.is_empty() {
                    return Ok(Done::Refused("这一条审核意见已标为不适用。".into()));
                }
                finding_text = Some(item_text(&findings, &seqs));
            }
            _ => {}
        }
        let agency = agency_name(&c.config(), &sub);
        let file_name = base_name(&sub);
        let told = crate::review::decision(&crate::review::DecisionMail {
            receipt: &sub.receipt,
            agency: agency.as_deref(),
            file_name: &file_name,
            action,
            reason: &reason,
            finding: finding_text.as_deref(),
            verdict: action.verdict().or(sub.verdict),
        });
        // Decisions made while held are told in the released feedback itself (issue 26).
        let while_held = rv::made_while_held(&history);
        let released = if held
            && action.releases()
            && (crate::review::marks_any(&while_held) || crate::review::corrects_any(&while_held))
        {
            Some(crate::review::redraw(
                conn,
                sub.id,
                &sub.receipt,
                agency.as_deref(),
                &file_name,
                &while_held,
            )?)
        } else {
            None
        };
        let mut messages = Vec::new();
        if let Some((subject, body)) = told {
            messages = crate::review::to_each(
                MessageKind::Review,
                &crate::review::recipients(&c.config(), sub.agency_folder.as_deref()),
                &subject,
                &body,
            );
            // The receipt file on the share says the decision too, above the feedback.
            if let Some((path, mut first)) = rv::first_receipt_file(conn, sub.id, &sub.receipt)? {
                if let Some(r) = &released {
                    first.clone_from(&r.receipt_body);
                }
                messages.push(crate::store::OutboxMessage {
                    kind: MessageKind::Receipt,
                    recipient: path,
                    subject: subject.clone(),
                    body_text: format!("{subject}\n\n{body}\n——以下为此前的审核意见——\n\n{first}"),
                    body_html: None,
                    html_from: None,
                });
            }
        }
        let at = crate::time::now_utc();
        let decision = |finding_seq: Option<i64>| Decision {
            action,
            finding_seq,
            reason: &reason,
            reviewer: &who,
            at: &at,
        };
        let mut decisions: Vec<Decision<'_>> = if seqs.is_empty() {
            vec![decision(None)]
        } else {
            seqs.iter().map(|&seq| decision(Some(seq))).collect()
        };
        // The released feedback says 已受理 once the errors were marked not applicable: the
        // stored verdict follows, or the overview would say 需修改 and chase the agency.
        if action == Action::Release
            && released.as_ref().is_some_and(|r| r.accepted)
            && sub.verdict == Some(Verdict::Rejected)
        {
            decisions.push(Decision {
                action: Action::Accept,
                finding_seq: None,
                reason: RELEASED_WITHOUT_ERRORS,
                reviewer: &who,
                at: &at,
            });
        }
        let id = rv::decide(conn, sub.id, &sub.receipt, &decisions, &messages, released.as_ref())?;
        tracing::info!(receipt = %sub.receipt, user = %who, action = action.as_str(), review = id, findings = seqs.len(), "console: review");
        Ok(Done::Confirmed(sub.receipt, action.as_str()))
    })
    .await
}

/// What the submission page shows of the review.
pub struct ReviewView {
    pub history: Vec<Review>,
    pub held: bool,
    /// The checker's own verdict.
    pub checker: Option<Verdict>,
    /// For a file at the inbox's top level: the agencies it can be given to (folder, name).
    pub agencies: Vec<(String, String)>,
    /// The action just done (`?done=`), confirmed at the top of the section.
    pub done: Option<String>,
}

impl ReviewView {
    /// Whether finding `seq` was marked not applicable.
    pub fn not_applicable(&self, seq: usize) -> bool {
        self.history.iter().any(|r| {
            r.action == Action::NotApplicable
                && r.finding_seq.and_then(|s| usize::try_from(s).ok()) == Some(seq)
        })
    }
}

pub fn load(
    store: &Store,
    config: &crate::config::Config,
    sub: &Submission,
) -> anyhow::Result<ReviewView> {
    let conn = store.connection();
    Ok(ReviewView {
        history: rv::reviews_of(conn, sub.id)?,
        held: rv::is_held(conn, sub.id)?,
        checker: rv::checker_verdict(conn, sub.id)?,
        agencies: if sub.agency_folder.is_none() {
            agencies(config)
        } else {
            Vec::new()
        },
        done: None,
    })
}

/// Every agency a file can be given to: the configured ones, then the inbox's other
/// folders (agencies of their own, named by their folder).
fn agencies(config: &crate::config::Config) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = config
        .agencies
        .iter()
        .map(|a| (a.folder.clone(), a.name.clone()))
        .collect();
    for f in crate::status::inbox_folders(config) {
        if !out.iter().any(|(folder, _)| *folder == f) {
            out.push((f.clone(), f));
        }
    }
    out
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    folder: String,
    #[serde(default)]
    reason: String,
}

/// `POST /submission/{receipt}/assign`: a file at the inbox's top level given to an agency
/// (归属到单位), with a reason kept in the history; the agency is then answered as usual.
pub async fn assign(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
    Form(form): Form<AssignForm>,
) -> Response {
    if let Err(r) = admin_on(&console, &v, &receipt).await {
        return r;
    }
    let who = reviewer(&v);
    let visitor = v.clone();
    act(&console, &v, move |c, store| {
        let reason: String = form.reason.trim().chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() {
            return Ok(Done::Refused("请填写理由。".into()));
        }
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        if let Some(office) = crate::bundle::origin_of(store.connection(), sub.id)? {
            return Ok(Done::Refused(format!(
                "这份提交由{office}受理，经数据包导入本系统：复核和发信由{office}负责，请在其系统中操作。"
            )));
        }
        if sub.agency_folder.is_some() {
            return Ok(Done::Refused("这份提交已属于一个单位，不能再归属。".into()));
        }
        let Some((folder, name)) = agencies(&c.config())
            .into_iter()
            .find(|(f, _)| *f == form.folder)
        else {
            return Ok(Done::Refused("没有这个单位。".into()));
        };
        if !super::scope::Scope::load(c, store, &visitor)?.folder(Some(&folder)) {
            return Ok(Done::Refused("该单位不在您负责的地区范围内。".into()));
        }
        let conn = store.connection();
        let file_name = base_name(&sub);
        // The agency's answer, as if the file had been dropped into its folder.
        let mut messages = Vec::new();
        if sub.state == SubmissionState::Checked {
            let history = rv::reviews_of(conn, sub.id)?;
            let r = crate::review::redraw(conn, sub.id, &sub.receipt, Some(&name), &file_name, &history)?;
            let body = r.body.replacen(
                "已收到，回执编号",
                "（放在收件箱根目录，经政务公开办确认为您单位的报告）已收到，回执编号",
                1,
            );
            let html = rv::stored_report_json(conn, sub.id)?.map(|_| crate::store::HtmlFrom {
                agency: Some(name.clone()),
                file: file_name.clone(),
                note: None,
            });
            for to in crate::review::recipients(&c.config(), Some(&folder)) {
                messages.push(crate::store::OutboxMessage {
                    kind: MessageKind::Feedback,
                    recipient: to,
                    subject: r.subject.clone(),
                    body_text: body.clone(),
                    body_html: None,
                    html_from: html.clone(),
                });
            }
        }
        let decision = Decision {
            action: Action::Assign,
            finding_seq: None,
            reason: &format!("归属到 {name}（{folder}）：{reason}"),
            reviewer: &who,
            at: &crate::time::now_utc(),
        };
        let Some(id) = rv::assign(conn, sub.id, &sub.receipt, (&folder, &name), &decision, &messages)? else {
            return Ok(Done::Refused("这份提交已属于一个单位，不能再归属。".into()));
        };
        tracing::info!(receipt = %sub.receipt, user = %who, folder = %folder, review = id, "console: assigned");
        Ok(Done::Confirmed(sub.receipt, Action::Assign.as_str()))
    })
    .await
}

fn verdict_label(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Accepted) => "已受理",
        Some(Verdict::Rejected) => "需修改",
        None => "—",
    }
}

/// What the page confirms after an action (`?done=`).
fn confirmation(done: Option<&str>, held: bool) -> Option<&'static str> {
    Some(match Action::parse(done?)? {
        Action::NotApplicable if held => {
            "已标为不适用。发出审核意见时，会去掉这条意见并告知提交单位理由。"
        }
        Action::NotApplicable => "已标为不适用，已把理由告知提交单位。",
        Action::Accept => "已予以受理，已把理由告知提交单位。",
        Action::Return => "已退回修改，已把理由告知提交单位。",
        Action::Release => "审核意见已发出。",
        Action::Resend => "已重新排队发送。",
        Action::Assign => "已归属到单位，审核意见将发给该单位。",
        Action::Correct => "已更正识别结果，审核意见已按更正后的数据重新生成；核对无误后请发出。",
        Action::Hold => return None,
    })
}

/// The review part of the submission page: state, history, and the admin's forms.
pub fn section(v: &Visitor, sub: &Submission, r: &ReviewView, findings: &[Finding]) -> Markup {
    // Over 80 lines on purpose: one maud template, the review section as it is shown: each form
    // beside the state that allows it.
    let admin = may(v, Role::Admin);
    let action = format!("/submission/{}/review", enc(&sub.receipt));
    let not_applicable: Vec<&Review> = r
        .history
        .iter()
        .filter(|x| x.action == Action::NotApplicable)
        .collect();
    let checked = sub.state == SubmissionState::Checked;
    html! {
        h2 #review { "人工复核" }
        @if let Some(done) = confirmation(r.done.as_deref(), r.held) {
            p.confirm #confirm role="status" { "✓ " (done) }
        }
        @if r.held {
            p.held #held { "暂缓发出：审核意见尚未发给提交单位（已告知“已收到，正在审核”），等待人工复核。" }
        }
        @if sub.reviewed {
            p #reviewed { "审核结果经人工复核为“" (verdict_label(sub.verdict)) "”（系统审核结果：" (verdict_label(r.checker)) "）。" }
        }
        @if !not_applicable.is_empty() {
            h3 { "不适用的审核意见" }
            ul #not-applicable {
                @for x in &not_applicable {
                    li {
                        "不适用："
                        (x.finding_seq.and_then(|s| usize::try_from(s).ok()).and_then(|s| findings.get(s)).map_or("", |f| f.message.as_str()))
                        "（理由：" (x.reason) "；" (who(&x.reviewer)) "，" (china_time(&x.decided_at)) "）"
                    }
                }
            }
        }
        @if r.history.is_empty() {
            p { "暂无复核记录。" }
        } @else {
            table.messages #history {
                thead { tr { th { "时间（北京时间）" } th { "操作" } th { "理由" } th { "操作人" } } }
                tbody {
                    @for x in &r.history {
                        tr {
                            td { (china_time(&x.decided_at)) }
                            td { (x.action.label()) }
                            td { (x.reason) }
                            td { (who(&x.reviewer)) }
                        }
                    }
                }
            }
        }
        @if admin && checked {
            @if r.held {
                section.review #release-section {
                    h3 { "发出审核意见" }
                    p { "审核意见暂缓发出。发出时去掉已标为不适用的意见，并写明不适用的理由。" }
                    form.review method="post" action=(action) {
                        input type="hidden" name="csrf" value=(v.csrf);
                        input type="hidden" name="action" value="release";
                        button type="submit" { "发出审核意见" }
                    }
                }
            }
            section.review #verdict-section {
                h3 { "审核结果" }
                p { "目前：" strong { (verdict_label(sub.verdict)) } "（系统审核结果：" (verdict_label(r.checker)) "）。改变审核结果须写明理由，理由会告知提交单位。" }
                form.review method="post" action=(action) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    @if sub.verdict == Some(Verdict::Accepted) {
                        input type="hidden" name="action" value="return";
                        label { "理由 " textarea name="reason" required rows="2" cols="60" {} }
                        button type="submit" { "退回修改" }
                    } @else {
                        input type="hidden" name="action" value="accept";
                        label { "理由 " textarea name="reason" required rows="2" cols="60" {} }
                        button type="submit" { "予以受理" }
                    }
                }
            }
            @if !findings.is_empty() {
                section.review #findings-section {
                    h3 { "逐条复核审核意见（与邮件中的分组相同）" }
                    ol #review-items {
                        @for item in crate::mail::items::group(findings) {
                            @let open: Vec<String> = item.findings.iter().filter(|&&i| !r.not_applicable(i)).map(ToString::to_string).collect();
                            li.item {
                                span class=(if item.severity == crate::finding::Severity::Error { "bad" } else { "missing" }) {
                                    (if item.severity == crate::finding::Severity::Error { "【错误】" } else { "【提示】" })
                                }
                                (item.text)
                                @if item.findings.len() > 1 { " " span.note { "（共 " (item.findings.len()) " 处）" } }
                                @if open.is_empty() {
                                    " " span.note.marked { "已标为不适用" }
                                } @else {
                                    form.review.inline method="post" action=(action) {
                                        input type="hidden" name="csrf" value=(v.csrf);
                                        input type="hidden" name="action" value="not_applicable";
                                        input type="hidden" name="findings" value=(open.join(","));
                                        label { "理由 " input type="text" name="reason" required size="30"; }
                                        " "
                                        button type="submit" { "标为不适用" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !r.held {
                section.review #resend-section {
                    h3 { "重新发送" }
                    form.review method="post" action=(format!("/submission/{}/resend", enc(&sub.receipt))) {
                        input type="hidden" name="csrf" value=(v.csrf);
                        button type="submit" { "重新发送反馈" }
                    }
                }
            }
        } @else if !admin {
            p.note { "复核和重新发送需要管理员权限。" }
        }
        @if admin && sub.agency_folder.is_none() && !r.agencies.is_empty() {
            h3 { "待归属：归属到单位" }
            p { "这份文件放在收件箱根目录，不属于任何单位，不计入本年度统计。归属后按该单位的提交处理，并向该单位发出审核意见。" }
            form.review #assign method="post" action=(format!("/submission/{}/assign", enc(&sub.receipt))) {
                input type="hidden" name="csrf" value=(v.csrf);
                label { "单位 " select name="folder" { @for (f, n) in &r.agencies { option value=(f) { (n) } } } }
                label { " 理由 " input type="text" name="reason" required size="40"; }
                button type="submit" { "归属到该单位" }
            }
        }
    }
}

/// `/review`: the submissions whose feedback waits for review (待复核).
pub async fn queue(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
) -> Response {
    let visitor = v.clone();
    let held = blocking(&console, move |c, store| {
        let conn = store.connection();
        let scope = super::scope::Scope::load(c, store, &visitor)?;
        let mut out = Vec::new();
        for sub in rv::held_submissions(conn)? {
            if !scope.folder(sub.agency_folder.as_deref()) {
                continue;
            }
            let why = rv::reviews_of(conn, sub.id)?
                .into_iter()
                .rev()
                .find(|r| r.action == Action::Hold)
                .map(|r| r.reason)
                .unwrap_or_default();
            out.push((sub, why));
        }
        Ok(out)
    })
    .await;
    let held = match held {
        Ok(h) => h,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        layout(
            &v,
            "待复核",
            html! {
                h1 { "待复核（" span #count-review { (held.len()) } "）" }
                p { "这些提交的审核意见暂缓发出，提交单位已收到“已收到，正在审核”。打开提交页发出或作出复核决定。" }
                @if held.is_empty() {
                    p { "没有待复核的提交。" }
                } @else {
                    table.overview {
                        thead { tr { th { "回执编号" } th { "单位" } th { "文件" } th { "收到时间" } th { "系统审核结果" } th { "错误" } th { "提示" } th { "暂缓原因" } } }
                        tbody {
                            @for (s, why) in &held {
                                tr {
                                    td { a href=(format!("/submission/{}", enc(&s.receipt))) { (s.receipt) } }
                                    td { (s.agency_name.as_deref().or(s.agency_folder.as_deref()).unwrap_or("")) }
                                    td { (s.original_name) }
                                    td { (china_time(&s.received_at)) }
                                    td { (verdict_label(s.verdict)) @if s.superseded_by.is_some() { " " span.note { "已被新版本替代" } } }
                                    td.num { (s.errors.unwrap_or(0)) }
                                    td.num { (s.warnings.unwrap_or(0)) }
                                    td { (why) }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

/// How the console names a kind of message.
pub fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Feedback => "审核意见",
        MessageKind::Admin => "审核意见（管理员）",
        MessageKind::Receipt => "回执文件",
        MessageKind::Duplicate => "重复提交答复",
        MessageKind::Notice => "管理员通知",
        MessageKind::Digest => "每日汇总",
        MessageKind::Review => "复核决定",
        MessageKind::Received => "已收到，正在审核",
        MessageKind::Reminder => "催报提醒",
    }
}

/// `/mail`: what waits (with attempts and the next try), what is held, what failed and
/// why, and what went out lately.
pub async fn mail_queue(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
) -> Response {
    // Over 80 lines on purpose: one maud page: the queries and the template of the outbox view.
    let visitor = v.clone();
    let rows = blocking(&console, move |c, store| {
        let rows = rv::mail_queue(store.connection(), RECENT_SENT)?;
        if visitor.region.is_none() {
            return Ok(rows);
        }
        // A user of a region sees the messages about its agencies' submissions only.
        let scope = super::scope::Scope::load(c, store, &visitor)?;
        let mut out = Vec::new();
        for m in rows {
            let Some(receipt) = &m.receipt else { continue };
            if let Some(sub) = store.by_receipt(receipt)?
                && scope.folder(sub.agency_folder.as_deref())
            {
                out.push(m);
            }
        }
        Ok(out)
    })
    .await;
    let rows = match rows {
        Ok(r) => r,
        Err(r) => return r,
    };
    let of = |state: OutboxState| -> Vec<&QueuedMessage> {
        rows.iter().filter(|m| m.state == state).collect()
    };
    let sections = [
        ("pending", "待发送", of(OutboxState::Pending)),
        ("held", "暂缓发出（待复核）", of(OutboxState::Held)),
        ("failed", "发送失败", of(OutboxState::Failed)),
        (
            "unconfirmed",
            "已发出，未确认送达",
            of(OutboxState::Unconfirmed),
        ),
        ("sent", "最近发送", of(OutboxState::Sent)),
    ];
    page(
        StatusCode::OK,
        layout(
            &v,
            "邮件队列",
            html! {
                h1 { "邮件队列" }
                p.counts {
                    @for (id, label, list) in &sections {
                        span { (label) " " strong id=(format!("count-{id}")) { (list.len()) } }
                    }
                }
                @for (id, label, list) in &sections {
                    h2 id=(*id) { (label) }
                    @if list.is_empty() {
                        p { "无。" }
                    } @else {
                        table.messages {
                            thead { tr {
                                th { "回执编号" } th { "类型" } th { "收件人" } th { "主题" } th { "尝试" }
                                th { "下次尝试（北京时间）" } th { "错误" } th { "排队时间" } th { "发送时间" }
                            } }
                            tbody {
                                @for m in list {
                                    tr {
                                        td { @if let Some(r) = &m.receipt { a href=(format!("/submission/{}", enc(r))) { (r) } } }
                                        td { (kind_label(m.kind)) }
                                        td { (m.recipient) }
                                        td { (m.subject) }
                                        td.num { (m.attempts) }
                                        td { (m.next_attempt_at.as_deref().filter(|_| m.state == OutboxState::Pending).map(china_time).unwrap_or_default()) }
                                        td { (m.last_error.as_deref().unwrap_or("")) }
                                        td { (china_time(&m.created_at)) }
                                        td { (m.sent_at.as_deref().map(china_time).unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}
