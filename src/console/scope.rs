//! What a visitor limited to a region (`nianbao user add NAME --region 老城区`) may see and
//! act on: the agencies of that region's subtree (see `crate::region`). Every console route
//! that shows or changes an agency's data asks here; `ROUTES` in `super` lists each route
//! with how it is limited, and `tests/console_regions.rs` tries every one of them.

use std::sync::Arc;

use axum::response::Response;

use super::Console;
use super::auth::{Visitor, forbidden};
use super::layout::blocking;
use crate::region::Tree;
use crate::store::Store;

/// The visitor's reach: the tree and the region it is limited to.
pub struct Scope {
    pub tree: Tree,
    /// `None`: everything.
    pub region: Option<String>,
}

impl Scope {
    /// The scope of `v` (the tree read afresh: regions of imported agencies included).
    pub fn load(c: &Console, store: &Store, v: &Visitor) -> anyhow::Result<Scope> {
        Ok(Scope {
            tree: Tree::load(&c.config(), store.connection())?,
            region: v.region.clone(),
        })
    }

    /// Whether the visitor is limited to a region.
    pub fn limited(&self) -> bool {
        self.region.is_some()
    }

    /// Whether agency `folder` (`None`: a file at the inbox's top level) is within reach.
    pub fn folder(&self, folder: Option<&str>) -> bool {
        self.tree.folder_in(folder, self.region.as_deref())
    }

    /// Whether the region `r` may be looked at: a configured region within reach.
    pub fn region_visible(&self, r: &str) -> bool {
        self.tree.contains(r)
            && match &self.region {
                None => true,
                Some(s) => self.tree.within(r, s),
            }
    }
}

/// The answer to anything outside the visitor's region: 403.
pub fn outside() -> Response {
    forbidden("不在您负责的地区范围内 / outside the region of this user")
}

/// `Err(403)` when the submission `receipt` exists and its agency is outside the visitor's
/// region (an unknown receipt is left to the handler: 404). Unlimited visitors pass at once.
pub async fn receipt_allowed(
    console: &Arc<Console>,
    v: &Visitor,
    receipt: &str,
) -> Result<(), Response> {
    if v.region.is_none() {
        return Ok(());
    }
    let (v2, receipt) = (v.clone(), receipt.to_string());
    let inside = super::layout::blocking(console, move |c, store| {
        let Some(sub) = store.by_receipt(&receipt)? else {
            return Ok(true);
        };
        Ok(Scope::load(c, store, &v2)?.folder(sub.agency_folder.as_deref()))
    })
    .await?;
    if inside { Ok(()) } else { Err(outside()) }
}

/// `Err(403)` when agency `folder` is outside the visitor's region.
pub async fn folder_allowed(
    console: &Arc<Console>,
    v: &Visitor,
    folder: &str,
) -> Result<(), Response> {
    if v.region.is_none() {
        return Ok(());
    }
    let (v2, folder) = (v.clone(), folder.to_string());
    let inside = super::layout::blocking(console, move |c, store| {
        Ok(Scope::load(c, store, &v2)?.folder(Some(&folder)))
    })
    .await?;
    if inside { Ok(()) } else { Err(outside()) }
}

/// The region a listing is asked for (`?region=`), or the visitor's own: 403 when it is
/// not a configured region within the visitor's reach.
pub(super) async fn scoped_region(
    console: &Arc<Console>,
    v: &Visitor,
    asked: Option<String>,
) -> Result<Option<String>, Response> {
    let asked = asked.filter(|r| !r.is_empty());
    let Some(r) = asked else {
        return Ok(v.region.clone());
    };
    let v2 = v.clone();
    let r2 = r.clone();
    let visible = blocking(console, move |c, store| {
        Ok(Scope::load(c, store, &v2)?.region_visible(&r2))
    })
    .await?;
    if visible { Ok(Some(r)) } else { Err(outside()) }
}

/// Keeps what `scope` reaches: its agencies and their submissions; the files at the
/// inbox's top level and the other years' counts are the whole office's (left out).
pub(super) fn scope_status(scope: &Scope, status: &mut crate::status::Status) {
    if !scope.limited() {
        return;
    }
    status
        .agencies
        .retain(|a| scope.folder(a.folder.as_deref()));
    status
        .submissions
        .retain(|s| scope.folder(s.agency_folder.as_deref()));
    status.unassigned.clear();
    status.other_years.clear();
}
