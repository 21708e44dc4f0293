//! Who may use the console: sessions, the login throttle, CSRF, the guard in front of
//! every console route, and the login and logout handlers.
//!
//! - Sessions live in the daemon's memory only (a restart logs everyone out): a random
//!   256-bit token in an `HttpOnly; SameSite=Strict; Path=/` cookie (`Secure` behind TLS),
//!   ended by logout or after `[http] session_idle_min` without a request. A login always
//!   starts a new token (no fixation).
//! - Only a login creates a session: an anonymous visitor (the login form; the console on
//!   loopback without users) has none, and its CSRF token is a signed double-submit cookie
//!   (`csrf`). So anonymous visits cannot fill the session table, and a logged-in session
//!   is never evicted for one.
//! - Each session has its own CSRF token; every POST must carry it in the form field
//!   `csrf`, or gets 403.
//! - The user behind a session is looked up at every request: a user removed with
//!   `nianbao user remove` is refused at once, and a new password or role (`nianbao user
//!   add` again) ends that user's sessions at their next request: a session remembers the
//!   password hash and role it was opened with.
//! - When no user is configured and the console listens on a loopback address, nobody logs
//!   in: every visitor acts as admin (the daemon refuses other addresses without users).
//! - Wrong passwords are throttled per (user name, client), see `throttle`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest as _, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::Console;
use super::users::{Role, dummy_hash, verify_password};

/// The session cookie's name.
pub const COOKIE: &str = "nianbao_session";

/// Sessions kept at most (logged-in users only); beyond, the longest idle ones are dropped.
const MAX_SESSIONS: usize = 10_000;

/// The largest POST body the console reads (its forms are a few fields).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Who is asking, as the handlers see it (a request extension set by [`guard`]).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub token: String,
    /// The logged-in user; `None` before login, and when no login is needed.
    pub user: Option<String>,
    /// What the visitor may do; `None`: not logged in.
    pub role: Option<Role>,
    pub csrf: String,
    /// Whether users are configured (login required); `false`: loopback without users.
    pub login: bool,
    /// The region the user is limited to (its subtree); `None`: everything.
    pub region: Option<String>,
}

#[derive(Debug, Clone)]
struct Session {
    user: Option<String>,
    /// The user's password hash and role at login (see [`stamp`]); empty before login.
    stamp: String,
    csrf: String,
    last_seen: Instant,
}

/// The sessions of the running daemon.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: Duration,
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            map: Mutex::default(),
            idle,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session of `token`, touched; `None` when unknown or idle too long (then ended).
    fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.lock();
        let idle = self.idle;
        match map.get_mut(token) {
            Some(s) if s.last_seen.elapsed() <= idle => {
                s.last_seen = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    /// A new session with fresh tokens: (session token, CSRF token). `stamp`: the user's
    /// [`stamp`] at login.
    fn create(&self, user: Option<String>, stamp: String) -> std::io::Result<(String, String)> {
        let token = random_hex(32)?;
        let csrf = random_hex(32)?;
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            let idle = self.idle;
            map.retain(|_, s| s.last_seen.elapsed() <= idle);
            while map.len() >= MAX_SESSIONS {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(t, _)| t.clone());
                match oldest {
                    Some(t) => map.remove(&t),
                    None => break,
                };
            }
        }
        map.insert(
            token.clone(),
            Session {
                user,
                stamp,
                csrf: csrf.clone(),
                last_seen: Instant::now(),
            },
        );
        Ok((token, csrf))
    }

    fn remove(&self, token: &str) {
        self.lock().remove(token);
    }
}

/// `n` random bytes from the kernel, hex-encoded.
pub(super) fn random_hex(n: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        let got =
            rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty())
                .map_err(std::io::Error::from)?;
        filled += got;
    }
    Ok(hex::encode(buf))
}

/// What a session must still match: the user's password hash and role. A new password
/// or role changes it, which ends the sessions opened before.
fn stamp(user: &super::users::User) -> String {
    format!(
        "{}\t{}\t{}",
        user.role.as_str(),
        user.hash,
        user.region.as_deref().unwrap_or("")
    )
}

/// Compares without stopping at the first difference (tokens are secrets).
fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The `Set-Cookie` value of a session.
pub fn cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in the request's cookies.
fn token_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name` in the request's cookies (every `Cookie` header, parsed
/// by axum-extra's `CookieJar`); an empty value is none.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

impl Console {
    /// The visitor of `token`: its session (only a login makes one) with its user looked up
    /// afresh, or an anonymous visitor without a CSRF token yet (see [`guard`]). Blocking.
    fn resolve(&self, token: Option<&str>) -> anyhow::Result<Visitor> {
        let login = self.with_users(|users| users.any())?;
        let open = !login && self.loopback;
        let mut session = token.and_then(|t| self.sessions.get(t).map(|s| (t.to_string(), s)));
        let mut role = open.then_some(Role::Admin);
        let mut region = None;
        if login
            && let Some((t, s)) = &session
            && let Some(name) = &s.user
        {
            let user = self.with_users(|users| users.find(name))?;
            match user {
                Some(u) if same(&stamp(&u), &s.stamp) => {
                    role = Some(u.role);
                    region = u.region;
                }
                _ => {
                    // Removed, or given a new password or role, since the login.
                    self.sessions.remove(t);
                    session = None;
                }
            }
        }
        Ok(match session {
            Some((token, s)) => Visitor {
                token,
                user: s.user.filter(|_| login),
                role,
                csrf: s.csrf,
                login,
                region,
            },
            None => Visitor {
                token: String::new(),
                user: None,
                role,
                csrf: String::new(),
                login,
                region: None,
            },
        })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

pub(super) fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("403 禁止访问：{why}\n"),
    )
        .into_response()
}

/// In front of every console route: finds the visitor, sends those who must log in to
/// `/login` (GET) or refuses them (other methods), checks the CSRF token of every POST,
/// and hands the [`Visitor`] to the handler.
pub async fn guard(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let public = path == "/login" || path.starts_with("/static/");
    let token = token_from(req.headers());
    let c = Arc::clone(&console);
    let resolved = tokio::task::spawn_blocking(move || c.resolve(token.as_deref())).await;
    let mut visitor = match resolved {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return super::layout::internal(&format!("{e:#}")),
        Err(e) => return super::layout::internal(&e.to_string()),
    };
    // No session: the CSRF token is the signed cookie, minted when missing or not ours.
    let mut new_cookie = None;
    if visitor.token.is_empty() {
        match cookie_value(req.headers(), super::csrf::COOKIE).filter(|t| console.signer.valid(t)) {
            Some(t) => visitor.csrf = t,
            None => match console.signer.mint() {
                Ok(t) => {
                    new_cookie = Some(super::csrf::cookie(&t, console.config().http.behind_tls));
                    visitor.csrf = t;
                }
                Err(e) => return super::layout::internal(&e.to_string()),
            },
        }
    }
    let allowed = visitor.role.is_some();
    if !public && !allowed {
        return if matches!(*req.method(), Method::GET | Method::HEAD) {
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/login"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
            )
                .into_response()
        } else {
            forbidden("请先登录 / log in first")
        };
    }
    let mut req = req;
    if req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response();
        };
        let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let sent = Form::<CsrfField>::from_request(probe, &())
            .await
            .map(|f| f.0.csrf)
            .unwrap_or_default();
        // Without a session, a token just minted is in no form yet: `sent` cannot match.
        let expected = if new_cookie.is_some() {
            ""
        } else {
            visitor.csrf.as_str()
        };
        if sent.is_empty() || expected.is_empty() || !same(&sent, expected) {
            return forbidden(
                "表单已过期或缺少校验码，请刷新页面后重试 / missing or wrong CSRF token",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(visitor);
    let mut response = next.run(req).await;
    if let Some(c) = new_cookie
        && let Ok(value) = HeaderValue::from_str(&c)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn login_page(Extension(v): Extension<Visitor>) -> Response {
    if v.role.is_some() {
        return redirect_home();
    }
    super::login::login(&v.csrf, None, StatusCode::OK)
}

fn redirect_home() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()
}

pub async fn login(
    State(console): State<Arc<Console>>,
    Extension(visitor): Extension<Visitor>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !visitor.login {
        return redirect_home();
    }
    let peer = client.map_or(
        std::net::Ipv4Addr::UNSPECIFIED.into(),
        |Extension(ConnectInfo(a))| a.ip(),
    );
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = super::throttle::client(peer, forwarded, &console.config().http.trusted_proxies);
    let attempt = match console.throttle.begin(&form.name, client, Instant::now()) {
        Ok(attempt) => attempt,
        Err(wait) => return too_many(&visitor, wait),
    };
    if !attempt.slow_down.is_zero() {
        tokio::time::sleep(attempt.slow_down).await;
    }
    let c = Arc::clone(&console);
    let name = form.name.clone();
    let checked = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<String>> {
        let user = c.with_users(|users| users.find(&name))?;
        Ok(match user {
            Some(u) if verify_password(&form.password, &u.hash) => Some(stamp(&u)),
            Some(_) => None,
            None => {
                // As long as a wrong password, so that names cannot be probed.
                let _ = verify_password(&form.password, dummy_hash());
                None
            }
        })
    })
    .await;
    let ok = matches!(checked, Ok(Ok(Some(_))));
    attempt.end(ok, Instant::now());
    match checked {
        Ok(Ok(Some(stamp))) => {
            console.sessions.remove(&visitor.token);
            let token = match console.sessions.create(Some(form.name.clone()), stamp) {
                Ok((token, _)) => token,
                Err(e) => return super::layout::internal(&e.to_string()),
            };
            tracing::info!(user = %form.name, "console: logged in");
            let mut r = redirect_home();
            if let Ok(v) = HeaderValue::from_str(&cookie(&token, console.config().http.behind_tls))
            {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(Ok(None)) => {
            tracing::warn!(user = %form.name, client = %client, "console: wrong user name or password");
            super::login::login(
                &visitor.csrf,
                Some("用户名或密码错误。/ Wrong user name or password."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(e)) => super::layout::internal(&format!("{e:#}")),
        Err(e) => super::layout::internal(&e.to_string()),
    }
}

/// 429 to a client that must wait `wait` seconds before trying that name again.
fn too_many(visitor: &Visitor, wait: u64) -> Response {
    let mut r = super::login::login(
        &visitor.csrf,
        Some(&format!(
            "密码错误次数过多，请 {wait} 秒后再试。/ Too many wrong passwords: try again in {wait} s."
        )),
        StatusCode::TOO_MANY_REQUESTS,
    );
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub async fn logout(
    State(console): State<Arc<Console>>,
    Extension(visitor): Extension<Visitor>,
) -> Response {
    console.sessions.remove(&visitor.token);
    let target = if visitor.login { "/login" } else { "/" };
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(console.config().http.behind_tls)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Whether the visitor may do what needs `needed` (`admin` for the actions of later
/// slices: resend, review); a handler answers [`admin_only`] when not.
pub fn may(visitor: &Visitor, needed: Role) -> bool {
    visitor.role.is_some_and(|role| role >= needed)
}

/// The answer to a viewer attempting an admin action: 403.
pub fn admin_only() -> Response {
    forbidden("需要管理员权限 / this needs the admin role")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes() {
        assert_eq!(
            cookie("abc", false),
            "nianbao_session=abc; HttpOnly; SameSite=Strict; Path=/"
        );
        assert!(cookie("abc", true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; nianbao_session=tok; b=2"),
        );
        assert_eq!(token_from(&h).as_deref(), Some("tok"));
    }

    #[test]
    fn sessions_expire_when_idle_and_tokens_differ() {
        let s = Sessions::new(Duration::from_millis(50));
        let (a, csrf) = s.create(Some("u".into()), "x".into()).expect("create");
        let (b, _) = s.create(None, String::new()).expect("create");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(s.get(&a).map(|x| x.csrf), Some(csrf));
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&a).is_none(), "idle session ended");
    }

    #[test]
    fn roles_are_ordered() {
        let v = |role| Visitor {
            token: String::new(),
            user: None,
            role,
            csrf: String::new(),
            login: true,
            region: None,
        };
        assert!(may(&v(Some(Role::Admin)), Role::Admin));
        assert!(may(&v(Some(Role::Viewer)), Role::Viewer));
        assert!(!may(&v(Some(Role::Viewer)), Role::Admin));
        assert!(!may(&v(None), Role::Viewer));
        assert_eq!(admin_only().status(), StatusCode::FORBIDDEN);
    }
}
