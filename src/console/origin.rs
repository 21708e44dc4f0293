//! DNS rebinding and cross-site requests: the console answers only requests addressed to
//! it by a name it knows. A page on `attacker.example` whose name the attacker re-points to
//! 127.0.0.1 sends `Host: attacker.example:9464`; the browser then treats the console as
//! the attacker's own site. So every console request must name, in `Host`:
//! - a loopback name (`localhost`, `*.localhost`) or a loopback address, any port (an SSH
//!   tunnel changes the port);
//! - the listen address (any address literal when listening on 0.0.0.0 or `::`: an address
//!   cannot be re-pointed, only a name can);
//! - or the host of `[http] public_url` (behind a proxy).
//!
//! A POST with an `Origin` header (browsers send one) must name such a host too; `Origin:
//! null` is refused. Refusals are 403 with a Chinese message.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::Console;

/// The hosts a console request may name.
pub struct Allowed {
    listen: IpAddr,
    public: Option<String>,
}

impl Allowed {
    pub fn new(listen: SocketAddr, public_url: Option<&str>) -> Allowed {
        Allowed {
            listen: listen.ip(),
            public: public_url.and_then(|u| host_of_authority(authority_of_url(u))),
        }
    }

    /// Whether an authority (`host[:port]`, as in `Host`) names this console.
    pub fn host_ok(&self, authority: &str) -> bool {
        let Some(host) = host_of_authority(authority) else {
            return false;
        };
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return ip.is_loopback() || ip == self.listen || self.listen.is_unspecified();
        }
        self.public.as_deref() == Some(host.as_str())
    }

    /// Whether an `Origin` (`scheme://host[:port]`) names this console.
    pub fn origin_ok(&self, origin: &str) -> bool {
        origin != "null" && origin.contains("://") && self.host_ok(authority_of_url(origin))
    }
}

/// `host[:port]` of a URL (`https://host:port/path`).
fn authority_of_url(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// The host of an authority, lower-case, without port or user; `None` when empty.
fn host_of_authority(authority: &str) -> Option<String> {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        // [::1]:9464
        authority.split_inclusive(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// In front of every console route (before the login guard).
pub async fn check(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let allowed = &console.allowed;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(|h| allowed.host_ok(h)) {
        tracing::warn!(host = ?host, "console: request for another host name refused (DNS rebinding?)");
        return super::auth::forbidden(
            "请求的主机名不是本控制台的地址；请用 http://127.0.0.1:端口/ 或配置的 public_url 访问 / \
             Host is not this console's address",
        );
    }
    if req.method() == Method::POST
        && let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| allowed.origin_ok(o))
    {
        tracing::warn!(origin = ?origin, "console: POST from another site refused");
        return super::auth::forbidden("表单来自其他网站，已拒绝 / cross-site POST refused");
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let a = Allowed::new(
            "127.0.0.1:9464".parse().expect("addr"),
            Some("https://NianBao.office.example/console"),
        );
        for ok in [
            "localhost:9464",
            "127.0.0.1:9464",
            "127.0.0.2",
            "[::1]:8080",
            "app.localhost",
            "nianbao.office.example",
            "nianbao.office.example:443",
        ] {
            assert!(a.host_ok(ok), "{ok}");
        }
        for bad in [
            "attacker.example:9464",
            "localhost.attacker.example",
            "192.168.1.5:9464",
            "",
            "nianbao.office.example.evil",
        ] {
            assert!(!a.host_ok(bad), "{bad}");
        }
        assert!(a.origin_ok("http://localhost:9464"));
        assert!(!a.origin_ok("null"));
        assert!(!a.origin_ok("http://attacker.example:9464"));
        let any = Allowed::new("0.0.0.0:9464".parse().expect("addr"), None);
        assert!(any.host_ok("192.168.1.5:9464"));
        assert!(!any.host_ok("attacker.example"));
    }
}
