//! The CSRF token of a visitor without a session (the login form; the console on loopback
//! without users): a signed double-submit cookie, so that no server-side state exists
//! before a login and anonymous visits cannot crowd out logged-in sessions.
//!
//! The token is `<nonce>.<HMAC-SHA256(key, nonce)>`, with a random key of the running
//! daemon: sent as the `nianbao_csrf` cookie (`HttpOnly; SameSite=Strict`) and as the
//! form's `csrf` field; a POST must carry both, equal, and validly signed. Another site
//! can neither read the cookie nor mint a token that verifies.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The cookie's name.
pub const COOKIE: &str = "nianbao_csrf";

/// Signs and checks tokens with the daemon's key (new at each start).
pub struct Signer {
    key: [u8; 32],
}

impl Signer {
    pub fn new() -> std::io::Result<Signer> {
        let mut key = [0u8; 32];
        let mut filled = 0;
        while filled < key.len() {
            filled +=
                rustix::rand::getrandom(&mut key[filled..], rustix::rand::GetRandomFlags::empty())
                    .map_err(std::io::Error::from)?;
        }
        Ok(Signer { key })
    }

    fn mac(&self, nonce: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(nonce.as_bytes());
        mac
    }

    /// A new token.
    pub fn mint(&self) -> std::io::Result<String> {
        let nonce = super::auth::random_hex(16)?;
        let tag = self.mac(&nonce).finalize().into_bytes();
        let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("{nonce}.{tag}"))
    }

    /// Whether `token` was minted with this key (compared in constant time).
    pub fn valid(&self, token: &str) -> bool {
        let Some((nonce, tag)) = token.split_once('.') else {
            return false;
        };
        let Some(tag) = unhex(tag) else {
            return false;
        };
        nonce.len() == 32 && self.mac(nonce).verify_slice(&tag).is_ok()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The `Set-Cookie` value of a token.
pub fn cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key() {
        let a = Signer::new().expect("key");
        let b = Signer::new().expect("key");
        let t = a.mint().expect("mint");
        assert!(a.valid(&t));
        assert!(!b.valid(&t), "another daemon's key");
        assert_ne!(t, a.mint().expect("mint"));
        let (nonce, _) = t.split_once('.').expect("dot");
        assert!(!a.valid(&format!("{nonce}.{}", "0".repeat(64))));
        assert!(!a.valid(nonce));
        assert!(!a.valid(""));
        assert!(!a.valid("é.é"));
    }
}
