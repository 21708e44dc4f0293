//! The region tree (issue 28): `[[region]]` entries name a region and its parent (none: a
//! region at the top), an `[[agency]]` names its region. A console user limited to a region
//! (`nianbao user add NAME --region 老城区`) sees and acts on that region's subtree only.
//!
//! Agencies brought in by `nianbao import --bundle` are not in this office's configuration:
//! their region is the one recorded at the import (table `agency_regions`), unless an
//! `[[agency]]` of this configuration says otherwise.
//!
//! Without `[[region]]` there is no tree: every agency is at the top and nothing changes.

use std::collections::{HashMap, HashSet};

use crate::config::Config;
pub use crate::config::Region;

/// The configured tree, with the regions of agencies (configured and imported).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Region → its parent (`None`: at the top), for every configured region.
    parent: HashMap<String, Option<String>>,
    /// Parent (`None`: the top) → its child regions, in the configuration's order.
    children: HashMap<Option<String>, Vec<String>>,
    /// Agency folder → its region.
    of_folder: HashMap<String, String>,
}

/// Deepest tree walked: a longer chain of parents is a cycle (refused by
/// `config::regions::problems`).
use crate::config::regions::MAX_DEPTH;

impl Tree {
    /// The configured tree and the configured agencies' regions.
    pub fn new(config: &Config) -> Tree {
        let mut tree = Tree::default();
        for r in &config.regions {
            if tree.parent.contains_key(&r.name) {
                continue;
            }
            tree.parent.insert(r.name.clone(), r.parent.clone());
            tree.children
                .entry(r.parent.clone())
                .or_default()
                .push(r.name.clone());
        }
        for a in &config.agencies {
            if let Some(region) = &a.region {
                tree.of_folder.insert(a.folder.clone(), region.clone());
            }
        }
        tree
    }

    /// The tree with the regions recorded for imported agencies (`agency_regions`) where
    /// the configuration names none. Without `[[region]]`, the configured tree alone.
    pub fn load(config: &Config, conn: &rusqlite::Connection) -> anyhow::Result<Tree> {
        let mut tree = Tree::new(config);
        if tree.is_empty() {
            return Ok(tree);
        }
        let configured: HashSet<&str> = config.agencies.iter().map(|a| a.folder.as_str()).collect();
        for (folder, region) in crate::store::agency_regions(conn)? {
            if !configured.contains(folder.as_str()) {
                tree.of_folder.entry(folder).or_insert(region);
            }
        }
        Ok(tree)
    }

    /// No `[[region]]` configured.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    pub fn contains(&self, region: &str) -> bool {
        self.parent.contains_key(region)
    }

    /// The child regions of `of` (`None`: the regions at the top).
    pub fn children(&self, of: Option<&str>) -> &[String] {
        self.children
            .get(&of.map(str::to_string))
            .map_or(&[], Vec::as_slice)
    }

    /// The region of an agency folder (`None`: at the top, or no such agency).
    pub fn region_of(&self, folder: &str) -> Option<&str> {
        self.of_folder.get(folder).map(String::as_str)
    }

    /// The parent of `region` (`None`: at the top or unknown).
    pub fn parent_of(&self, region: &str) -> Option<&str> {
        self.parent.get(region).and_then(|p| p.as_deref())
    }

    /// Whether `region` is `ancestor` or below it. An unknown region is within nothing.
    pub fn within(&self, region: &str, ancestor: &str) -> bool {
        let mut at = Some(region);
        for _ in 0..MAX_DEPTH {
            match at {
                Some(r) if r == ancestor => return self.contains(r),
                Some(r) => at = self.parent_of(r),
                None => return false,
            }
        }
        false
    }

    /// The regions from the top down to `region` (empty when unknown).
    pub fn path(&self, region: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = Some(region);
        while let Some(r) = at {
            if !self.contains(r) || out.len() >= MAX_DEPTH {
                break;
            }
            out.push(r.to_string());
            at = self.parent_of(r);
        }
        out.reverse();
        out
    }

    /// The child of `of` (`None`: the top) under which `region` lies, if any.
    pub fn child_toward(&self, of: Option<&str>, region: &str) -> Option<String> {
        let path = self.path(region);
        match of {
            None => path.into_iter().next(),
            Some(of) => {
                let at = path.iter().position(|r| r == of)?;
                path.get(at + 1).cloned()
            }
        }
    }

    /// Whether agency `folder` is in `scope`'s subtree (`None`: no limit). An agency with
    /// no region is only in the unlimited scope.
    pub fn folder_in(&self, folder: Option<&str>, scope: Option<&str>) -> bool {
        match scope {
            None => true,
            Some(scope) => folder
                .and_then(|f| self.region_of(f))
                .is_some_and(|r| self.within(r, scope)),
        }
    }

    /// Every region in the tree's order (depth first, the configuration's order among
    /// siblings), with its depth (0: at the top).
    pub fn depth_first(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut stack: Vec<(String, usize)> = self
            .children(None)
            .iter()
            .rev()
            .map(|r| (r.clone(), 0))
            .collect();
        let mut seen = HashSet::new();
        while let Some((r, depth)) = stack.pop() {
            if !seen.insert(r.clone()) {
                continue;
            }
            for c in self.children(Some(&r)).iter().rev() {
                stack.push((c.clone(), depth + 1));
            }
            out.push((r, depth));
        }
        out
    }
}

/// Whether a user's region is usable here: `Err` says why not (for `config check` and
/// `nianbao user add`).
pub fn check_user_region(config: &Config, user: &str, region: &str) -> Result<(), String> {
    if Tree::new(config).contains(region) {
        return Ok(());
    }
    Err(if config.regions.is_empty() {
        format!(
            "用户 {user} 限定在地区 {region:?}，但配置中没有任何 [[region]]：请在配置中添加 \
             [[region]] name = {region:?}，或用 `nianbao user add {user}` 不带 --region 取消限定"
        )
    } else {
        format!(
            "用户 {user} 限定在地区 {region:?}，但配置的 [[region]] 中没有这个地区：请改正 \
             拼写（`nianbao user add {user} --region 地区名`）或在配置中添加它"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::regions::problems;

    fn config(regions: &[(&str, Option<&str>)]) -> Config {
        Config {
            regions: regions
                .iter()
                .map(|(n, p)| Region {
                    name: n.to_string(),
                    parent: p.map(str::to_string),
                })
                .collect(),
            ..Config::default()
        }
    }

    #[test]
    fn the_tree_answers_within_path_and_children() {
        let c = config(&[
            ("黄石市", None),
            ("西塞山区", Some("黄石市")),
            ("老城区", Some("黄石市")),
            ("八泉街道", Some("西塞山区")),
        ]);
        assert!(problems(&c).is_empty(), "{:?}", problems(&c));
        let t = Tree::new(&c);
        assert!(t.within("八泉街道", "黄石市"));
        assert!(t.within("八泉街道", "西塞山区"));
        assert!(!t.within("八泉街道", "老城区"));
        assert!(!t.within("无此区", "无此区"), "unknown is within nothing");
        assert_eq!(t.path("八泉街道"), ["黄石市", "西塞山区", "八泉街道"]);
        assert_eq!(t.children(Some("黄石市")), ["西塞山区", "老城区"]);
        assert_eq!(
            t.child_toward(Some("黄石市"), "八泉街道").as_deref(),
            Some("西塞山区")
        );
        assert_eq!(t.child_toward(None, "八泉街道").as_deref(), Some("黄石市"));
        assert_eq!(t.child_toward(Some("老城区"), "八泉街道"), None);
        let order: Vec<String> = t.depth_first().into_iter().map(|(r, _)| r).collect();
        assert_eq!(order, ["黄石市", "西塞山区", "八泉街道", "老城区"]);
    }

    #[test]
    fn mistakes_are_named() {
        let mut c = config(&[("甲", Some("乙")), ("乙", Some("甲")), ("丙", Some("丁"))]);
        c.agencies.push(crate::config::Agency {
            folder: "x".into(),
            name: "某局".into(),
            email: vec![],
            kind: None,
            deadline: None,
            region: Some("戊".into()),
        });
        let p = problems(&c).join("\n");
        assert!(p.contains("parent = \"丁\" 不是已配置的地区"), "{p}");
        assert!(p.contains("成环：甲 → 乙 → 甲"), "{p}");
        assert!(p.contains("region = \"戊\" 不是已配置的地区"), "{p}");
        assert_eq!(p.matches("成环").count(), 1, "one cycle said once: {p}");
        let t = Tree::new(&c);
        assert!(!t.within("甲", "丙"), "a cycle ends the walk");
        assert!(check_user_region(&c, "wang", "乙").is_ok());
        assert!(
            check_user_region(&c, "wang", "庚")
                .expect_err("unknown")
                .contains("没有这个地区")
        );
    }
}
