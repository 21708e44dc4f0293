//! `[bundle]`: exchange of signed bundles between offices (what is done with them: the
//! `bundle` module).

use std::path::PathBuf;

use serde::Deserialize;

/// `[bundle]`: this office's name in the bundles it writes, and the shared key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BundleConfig {
    /// This office, as the bundles it writes name it (e.g. "西塞山区政务公开办").
    pub office: Option<String>,
    /// The shared secret (HMAC-SHA256 key), at least 32 bytes, in a file readable by the
    /// daemon's user only; the same file at both offices.
    pub key_file: Option<PathBuf>,
}

/// What serde cannot say about `[bundle]`.
pub fn problems(bundle: &BundleConfig) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(o) = &bundle.office
        && !good_office(o)
    {
        out.push(format!(
            "[bundle] office = {o:?}：请写本单位的名称（不能为空，不含 @ 或控制字符）"
        ));
    }
    out
}

/// A name an office may go by in bundles: not empty, no control characters, no `@` (it
/// is put after `@` in receipts and folders).
pub fn good_office(o: &str) -> bool {
    !o.trim().is_empty() && !o.chars().any(char::is_control) && !o.contains('@')
}
