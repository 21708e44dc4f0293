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
use super::pages::{agency_name, blocking, china_time, enc, internal, layout, not_found, page};
use super::users::Role;
use crate::finding::Finding;
use crate::store::review::{self as rv, Action, Decision, QueuedMessage, Review};
use crate::store::{OutboxState, Store, Submission, SubmissionState, Verdict};

/// The longest reason kept (a few paragraphs).
const MAX_REASON_CHARS: usize = 2000;

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
enum Done {
    /// Done: back to the submission's page, and wake the mail task.
    Ok(String),
    NotFound,
    /// Refused, with why (409).
    Refused(String),
}

/// Runs an action on the writing connection, then answers it.
async fn act(
    console: &Arc<Console>,
    v: &Visitor,
    f: impl FnOnce(&Console, &Store) -> anyhow::Result<Done> + Send + 'static,
) -> Response {
    let c = Arc::clone(console);
    let done = tokio::task::spawn_blocking(move || c.with_writer(|store| f(&c, store))).await;
    match done {
        Ok(Ok(Done::Ok(receipt))) => {
            (console.kick)();
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, format!("/submission/{}", enc(&receipt)))],
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

/// Who acted, for the history.
fn reviewer(v: &Visitor) -> String {
    v.user.clone().unwrap_or_else(|| "本机管理员".into())
}

/// `POST /submission/{receipt}/resend`: the submission's answer queued again.
pub async fn resend(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
) -> Response {
    if !may(&v, Role::Admin) {
        return admin_only();
    }
    let who = reviewer(&v);
    act(&console, &v, move |_, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        let conn = store.connection();
        if rv::is_held(conn, sub.id)? {
            return Ok(Done::Refused(
                "审核意见暂缓发出（待复核）：请先发出或作出复核决定。/ The feedback is held for review: release it or decide first.".into(),
            ));
        }
        let n = rv::resend(conn, sub.id, &who, &crate::time::now_utc())?;
        if n == 0 {
            return Ok(Done::Refused("这份提交没有可重新发送的消息。/ This submission has no message to resend.".into()));
        }
        tracing::info!(receipt = %sub.receipt, user = %who, messages = n, "console: resent");
        Ok(Done::Ok(sub.receipt))
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
}

/// `POST /submission/{receipt}/review`: release, accept, return, or a finding not
/// applicable, with a reason (but for a release).
pub async fn decide(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(receipt): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Response {
    if !may(&v, Role::Admin) {
        return admin_only();
    }
    let who = reviewer(&v);
    act(&console, &v, move |c, store| {
        let Some(action) = Action::parse(&form.action).filter(|a| {
            matches!(
                a,
                Action::Release | Action::Accept | Action::Return | Action::NotApplicable
            )
        }) else {
            return Ok(Done::Refused(format!("未知的操作 {:?}。/ Unknown action.", form.action)));
        };
        let reason: String = form.reason.trim().chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() && action != Action::Release {
            return Ok(Done::Refused("请填写理由。/ Give a reason.".into()));
        }
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(Done::NotFound);
        };
        let conn = store.connection();
        if sub.state != SubmissionState::Checked {
            return Ok(Done::Refused("只有已审核的提交可以复核。/ Only a checked submission can be reviewed.".into()));
        }
        let held = rv::is_held(conn, sub.id)?;
        let history = rv::reviews_of(conn, sub.id)?;
        let mut finding_text = None;
        match action {
            Action::Release if !held => {
                return Ok(Done::Refused("审核意见没有暂缓，已经发出。/ The feedback is not held: it was sent.".into()));
            }
            Action::Accept if sub.verdict == Some(Verdict::Accepted) => {
                return Ok(Done::Refused("审核结果已是“已受理”。/ The verdict already is accepted.".into()));
            }
            Action::Return if sub.verdict == Some(Verdict::Rejected) => {
                return Ok(Done::Refused("审核结果已是“需修改”。/ The verdict already is rejected.".into()));
            }
            Action::NotApplicable => {
                let findings = crate::store::findings_of(conn, sub.id)?;
                let Some(f) = form
                    .finding
                    .and_then(|seq| usize::try_from(seq).ok())
                    .and_then(|seq| findings.get(seq))
                else {
                    return Ok(Done::Refused("没有这一条审核意见。/ No such finding.".into()));
                };
                if history.iter().any(|r| {
                    r.action == Action::NotApplicable && r.finding_seq == form.finding
                }) {
                    return Ok(Done::Refused("这一条审核意见已标为不适用。/ This finding is already marked not applicable.".into()));
                }
                finding_text = Some(f.message.clone());
            }
            _ => {}
        }
        let agency = agency_name(&c.config, &sub);
        let file_name = sub
            .original_name
            .rsplit('/')
            .next()
            .unwrap_or(&sub.original_name)
            .to_string();
        let told = crate::review::decision(&crate::review::DecisionMail {
            receipt: &sub.receipt,
            agency: agency.as_deref(),
            file_name: &file_name,
            action,
            reason: &reason,
            finding: finding_text.as_deref(),
            verdict: action.verdict().or(sub.verdict),
        });
        let mut messages = Vec::new();
        if let Some((subject, body)) = told {
            messages = crate::review::to_each(
                crate::store::MessageKind::Review,
                &crate::review::recipients(&c.config, sub.agency_folder.as_deref()),
                &subject,
                &body,
            );
            // The receipt file on the share says the decision too, above the feedback.
            if let Some((path, first)) = rv::first_receipt_file(conn, sub.id, &sub.receipt)? {
                messages.push(crate::store::OutboxMessage {
                    kind: crate::store::MessageKind::Receipt,
                    recipient: path,
                    subject: subject.clone(),
                    body_text: format!("{subject}\n\n{body}\n——以下为此前的审核意见——\n\n{first}"),
                    body_html: None,
                    html_from: None,
                });
            }
        }
        let id = rv::decide(
            conn,
            sub.id,
            &sub.receipt,
            &Decision {
                action,
                finding_seq: form.finding.filter(|_| action == Action::NotApplicable),
                reason: &reason,
                reviewer: &who,
                at: &crate::time::now_utc(),
            },
            &messages,
        )?;
        tracing::info!(receipt = %sub.receipt, user = %who, action = action.as_str(), review = id, "console: review");
        Ok(Done::Ok(sub.receipt))
    })
    .await
}

/// What the submission page shows of the review.
pub struct ReviewView {
    pub history: Vec<Review>,
    pub held: bool,
    /// The checker's own verdict.
    pub checker: Option<Verdict>,
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

pub fn load(store: &Store, sub: &Submission) -> anyhow::Result<ReviewView> {
    let conn = store.connection();
    Ok(ReviewView {
        history: rv::reviews_of(conn, sub.id)?,
        held: rv::is_held(conn, sub.id)?,
        checker: rv::checker_verdict(conn, sub.id)?,
    })
}

fn verdict_label(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Accepted) => "已受理",
        Some(Verdict::Rejected) => "需修改",
        None => "—",
    }
}

/// The review part of the submission page: state, history, and the admin's forms.
pub fn section(v: &Visitor, sub: &Submission, r: &ReviewView, findings: &[Finding]) -> Markup {
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
                        "（理由：" (x.reason) "；" (x.reviewer) "，" (china_time(&x.decided_at)) "）"
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
                            td { (x.reviewer) }
                        }
                    }
                }
            }
        }
        @if admin && checked {
            @if r.held {
                form.review method="post" action=(action) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    input type="hidden" name="action" value="release";
                    button type="submit" { "发出审核意见" }
                }
            }
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
            @if !findings.is_empty() {
                form.review method="post" action=(action) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    input type="hidden" name="action" value="not_applicable";
                    label {
                        "审核意见 "
                        select name="finding" {
                            @for (i, f) in findings.iter().enumerate() {
                                @if !r.not_applicable(i) {
                                    option value=(i) { (i + 1) ". " (f.message.chars().take(80).collect::<String>()) }
                                }
                            }
                        }
                    }
                    label { " 理由 " input type="text" name="reason" required size="40"; }
                    button type="submit" { "标为不适用" }
                }
            }
            @if !r.held {
                form.review method="post" action=(format!("/submission/{}/resend", enc(&sub.receipt))) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    button type="submit" { "重新发送反馈" }
                }
            }
        } @else if !admin {
            p.note { "复核和重新发送需要管理员权限。" }
        }
    }
}

/// `/review`: the submissions whose feedback waits for review (待复核).
pub async fn queue(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
) -> Response {
    let held = blocking(&console, |_, store| {
        let conn = store.connection();
        let mut out = Vec::new();
        for sub in rv::held_submissions(conn)? {
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

pub fn kind_label(kind: &str) -> &str {
    match kind {
        "feedback" => "审核意见",
        "admin" => "审核意见（管理员）",
        "receipt" => "回执文件",
        "duplicate" => "重复提交答复",
        "notice" => "管理员通知",
        "digest" => "每日汇总",
        "review" => "复核决定",
        "received" => "已收到，正在审核",
        other => other,
    }
}

/// `/mail`: what waits (with attempts and the next try), what is held, what failed and
/// why, and what went out lately.
pub async fn mail_queue(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
) -> Response {
    let rows = blocking(&console, |_, store| {
        Ok(rv::mail_queue(store.connection(), RECENT_SENT)?)
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
                                        td { (kind_label(&m.kind)) }
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
