//! The login page (the session itself: `auth`).

use axum::http::StatusCode;
use axum::response::Response;
use maud::{DOCTYPE, html};

use super::layout::{head, page};

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
