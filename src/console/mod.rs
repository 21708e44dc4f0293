//! The office's web console, served by the daemon's HTTP server (`[http] listen`, see
//! the `http` module): the season's overview (`/`), each submission (`/submission/{receipt}`,
//! with the original's download), each agency (`/agency/{folder}`), and the year's export
//! (`/export/{year}.csv|xlsx|json`). Plain server-rendered HTML in Chinese (maud, which
//! escapes everything by default), one small stylesheet, no JavaScript.
//!
//! Access (see `auth`): users in the database or a users file (see `users`); with none, the
//! console is open on a loopback address only, and the daemon refuses to start on any other
//! (unless `[http] console = false`).
//!
//! Reads go through a read-only connection of the console's own, on the blocking pool
//! (`spawn_blocking`), never the pipeline's.

mod agency;
pub mod auth;
mod csrf;
mod download;
mod export;
mod layout;
mod login;
mod origin;
mod overview;
mod review;
mod scan;
pub mod scope;
mod submission;
mod throttle;
pub mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::config::Config;
use crate::store::Store;
use users::Users;

/// The policy of every response: nothing but this server's own stylesheet; no scripts at
/// all, no frames, no plugins, forms only to this server. Style attributes are allowed
/// (`style-src-attr`): the tables come from the mail renderer, whose colours are inline
/// because mail clients drop stylesheets; no `<style>` element or script is.
pub const CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; \
     style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Wakes the daemon's mail task (something was queued: a resend, a review decision).
pub type Kick = Arc<dyn Fn() + Send + Sync>;

/// What the console needs: the settings, where the data is, the sessions.
pub struct Console {
    config: crate::shared_config::SharedConfig,
    db: PathBuf,
    paths: crate::store::Paths,
    /// The server listens on a loopback address: without users, no login is needed.
    loopback: bool,
    sessions: auth::Sessions,
    throttle: throttle::Throttle,
    /// Signs the CSRF cookie of visitors without a session (see `csrf`).
    signer: csrf::Signer,
    /// The host names a request may be addressed to (DNS rebinding, see `origin`).
    allowed: origin::Allowed,
    /// The console's own read-only connection, opened on first use.
    store: Mutex<Option<Store>>,
    /// A writing connection for an admin's actions (resend, review), opened on first use.
    writer: Mutex<Option<Store>>,
    kick: Kick,
}

impl Console {
    /// The console of a server bound to `local`. Refuses a non-loopback address when no
    /// user is configured, naming the fix. Blocking (reads the users).
    pub fn new(
        shared: crate::shared_config::SharedConfig,
        local: SocketAddr,
        kick: Kick,
    ) -> anyhow::Result<Console> {
        let config = shared.get();
        let paths = crate::store::Paths::new(&config.data_dir);
        let console = Console {
            db: paths.db.clone(),
            paths,
            loopback: local.ip().is_loopback(),
            sessions: auth::Sessions::new(config.http.session_idle_min.get()),
            throttle: throttle::Throttle::default(),
            signer: csrf::Signer::new().context("no random numbers for the console's key")?,
            allowed: origin::Allowed::new(local, config.http.public_url.as_deref()),
            store: Mutex::new(None),
            writer: Mutex::new(None),
            kick,
            config: shared,
        };
        if !console.loopback {
            let any = console
                .with_users(|users| users.any())
                .context("cannot read the console users")?;
            refuse_unguarded(local, any)?;
        }
        tracing::info!(
            "web console at http://{local}/ ({})",
            if console.loopback {
                "log in as a user of `nianbao user`; without users, open to this machine only"
            } else {
                "log in as a user of `nianbao user`"
            }
        );
        Ok(console)
    }

    /// Runs `f` on the console's connection (opened on first use; dropped after an error,
    /// so that the next request opens it afresh). Blocking.
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut slot = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(Store::open_read(&self.db)?);
        }
        let store = slot.as_ref().context("no database connection")?;
        let result = f(store);
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// Runs `f` on the users where they are now: the configured file, or the database.
    /// Blocking.
    fn with_users<T>(&self, f: impl FnOnce(&Users<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let config = self.config();
        self.with_store(|store| match &config.http.users_file {
            Some(path) => f(&Users::File(path)),
            None => f(&Users::Db(store.connection())),
        })
    }

    /// The configuration in force (swapped by a reload).
    fn config(&self) -> std::sync::Arc<Config> {
        self.config.get()
    }

    /// The season shown by default (see `crate::season`).
    fn season(&self) -> crate::season::Season {
        crate::season::current(&self.config())
    }
}

/// Refuses a console on a non-loopback address `local` when no user is configured, naming
/// the fix: `run` at start and `config check` (through `preflight`) say the same.
pub fn refuse_unguarded(local: SocketAddr, any_user: bool) -> anyhow::Result<()> {
    if local.ip().is_loopback() || any_user {
        return Ok(());
    }
    anyhow::bail!(
        "[http] listen = {local} is not a loopback address and no console user is \
         configured: anyone who reaches it would see every report. Add a user with \
         `nianbao user add NAME --role admin` (and `--config` of this daemon), or \
         listen on 127.0.0.1, or set `[http] console = false` to serve only \
         /metrics, /healthz and /readyz. / 控制台监听非本机地址但尚未设置用户：\
         请先运行 `nianbao user add 用户名`。"
    )
}

/// Whether any console user is configured: in the users file, or in the database (none
/// when it does not exist yet). Blocking.
pub fn any_user(config: &Config) -> anyhow::Result<bool> {
    let any = match &config.http.users_file {
        Some(path) => Users::File(path).any(),
        None => {
            let db = crate::store::Paths::new(&config.data_dir).db;
            if !db.exists() {
                return Ok(false);
            }
            let store = Store::open_read(&db)?;
            Users::Db(store.connection()).any()
        }
    };
    any.context("cannot read the console users")
}

/// The console users limited to a region: (name, region). None when the database does not
/// exist yet. Blocking.
pub fn user_regions(config: &Config) -> anyhow::Result<Vec<(String, String)>> {
    let list = match &config.http.users_file {
        Some(path) => Users::File(path).list(),
        None => {
            let db = crate::store::Paths::new(&config.data_dir).db;
            if !db.exists() {
                return Ok(Vec::new());
            }
            let store = Store::open_read(&db)?;
            // A database of an older version (migrated when the daemon starts) has no
            // regions yet.
            let has_region: i64 = store.connection().query_row(
                "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'region'",
                [],
                |r| r.get(0),
            )?;
            if has_region == 0 {
                return Ok(Vec::new());
            }
            Users::Db(store.connection()).list()
        }
    };
    Ok(list
        .context("cannot read the console users")?
        .into_iter()
        .filter_map(|u| u.region.map(|r| (u.name, r)))
        .collect())
}

/// How a route is limited for a user of a region (see `scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Names a submission (`{receipt}`): 403 outside the region.
    Submission,
    /// Names an agency (`{folder}`): 403 outside the region.
    Agency,
    /// A listing: shows the region's subtree only; `?region=` outside it is 403.
    Listing,
    /// Shows nothing of any agency (login, logout, the stylesheet).
    Public,
}

/// Declares the console's routes once: [`router`] serves them and [`ROUTES`] lists them
/// with their [`Reach`], so that a test can try every route as a user of another region
/// (a route added here without a case in that test fails it).
macro_rules! console_routes {
    ($(($method:ident, $path:literal, $reach:ident, $handler:expr)),* $(,)?) => {
        /// Every console route: (method, path, reach).
        pub const ROUTES: &[(&str, &str, Reach)] = &[
            $((stringify!($method), $path, Reach::$reach)),*
        ];

        fn routes(router: Router<Arc<Console>>) -> Router<Arc<Console>> {
            router $(.route($path, $method($handler)))*
        }
    };
}

console_routes![
    (get, "/", Listing, overview::overview),
    (
        get,
        "/submission/{receipt}",
        Submission,
        submission::submission
    ),
    (
        get,
        "/submission/{receipt}/original",
        Submission,
        submission::original
    ),
    (
        get,
        "/submission/{receipt}/page/{page}",
        Submission,
        scan::page
    ),
    (
        post,
        "/submission/{receipt}/correct",
        Submission,
        scan::correct
    ),
    (get, "/agency/{folder}", Agency, agency::agency),
    (get, "/export/{file}", Listing, export::export),
    (
        post,
        "/submission/{receipt}/resend",
        Submission,
        review::resend
    ),
    (
        post,
        "/submission/{receipt}/review",
        Submission,
        review::decide
    ),
    (
        post,
        "/submission/{receipt}/assign",
        Submission,
        review::assign
    ),
    (get, "/review", Listing, review::queue),
    (get, "/summary/{year}", Listing, overview::summary),
    (get, "/mail", Listing, review::mail_queue),
    (get, "/login", Public, auth::login_page),
    (post, "/login", Public, auth::login),
    (post, "/logout", Public, auth::logout),
    (get, "/static/console.css", Public, layout::stylesheet),
];

/// The console's routes, every one behind [`auth::guard`].
pub fn router(console: Arc<Console>) -> Router {
    routes(Router::new())
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&console),
            auth::guard,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&console),
            origin::check,
        ))
        .with_state(console)
}

/// Sets the security headers on every response of the server (console or not).
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
