//! The console's frame, shared by every page: the stylesheet, the `<head>`, the top bar
//! with who is logged in, the answers for errors, and small helpers (URL encoding, work on
//! the blocking pool). Pages are server-rendered with maud (every value escaped unless
//! wrapped in `PreEscaped`, which only the mail's table renderer's output is), Chinese, no
//! scripts.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::Console;
use super::auth::Visitor;
use crate::store::Store;

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

pub(super) fn head(title: &str) -> Markup {
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
