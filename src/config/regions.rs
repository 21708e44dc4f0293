//! `[[region]]`: the region tree (what is done with it: the `region` module).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::Config;

/// Deepest tree walked: a longer chain of parents is a cycle (refused by `problems`).
pub const MAX_DEPTH: usize = 64;

/// One `[[region]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub name: String,
    /// The region it belongs to; none: a region at the top.
    #[serde(default)]
    pub parent: Option<String>,
}

/// The mistakes in the region tree, each said plainly: a region without a name or twice,
/// an unknown parent, a cycle, an agency naming an unknown region (or any region while no
/// `[[region]]` is configured).
pub fn problems(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for r in &config.regions {
        if r.name.trim().is_empty() || r.name.chars().any(char::is_control) {
            out.push(format!(
                "[[region]] name = {:?}：地区名称不能为空或含控制字符",
                r.name
            ));
        }
        if !names.insert(r.name.as_str()) {
            out.push(format!(
                "[[region]] name = {:?} 出现了两次：每个地区只写一次",
                r.name
            ));
        }
    }
    for r in &config.regions {
        if let Some(p) = &r.parent
            && !names.contains(p.as_str())
        {
            out.push(format!(
                "[[region]] {:?}：上级 parent = {p:?} 不是已配置的地区（请先添加 [[region]] name = {p:?}，或改正拼写）",
                r.name
            ));
        }
    }
    // Each region's parent, as the tree takes it (the first entry of a name).
    let mut parent: HashMap<&str, Option<&String>> = HashMap::new();
    for r in &config.regions {
        parent.entry(r.name.as_str()).or_insert(r.parent.as_ref());
    }
    let mut in_cycle: HashSet<String> = HashSet::new();
    for r in &config.regions {
        if in_cycle.contains(&r.name) {
            continue;
        }
        let mut chain = vec![r.name.clone()];
        let mut at = r.parent.clone();
        while let Some(p) = at {
            if let Some(start) = chain.iter().position(|c| *c == p) {
                let cycle = &chain[start..];
                in_cycle.extend(cycle.iter().cloned());
                let mut shown: Vec<&str> = cycle.iter().map(String::as_str).collect();
                shown.push(&p);
                out.push(format!(
                    "[[region]] 上下级成环：{}；请让其中一个地区的 parent 指向环外的地区，或删去它",
                    shown.join(" → ")
                ));
                break;
            }
            if chain.len() > MAX_DEPTH {
                break;
            }
            chain.push(p.clone());
            at = parent.get(p.as_str()).copied().flatten().cloned();
        }
    }
    for a in &config.agencies {
        if let Some(region) = &a.region {
            if config.regions.is_empty() {
                out.push(format!(
                    "[[agency]] {:?}：region = {region:?}，但没有配置任何 [[region]]（请添加 [[region]] name = {region:?}）",
                    a.folder
                ));
            } else if !names.contains(region.as_str()) {
                out.push(format!(
                    "[[agency]] {:?}：region = {region:?} 不是已配置的地区（见 [[region]]；请改正拼写或添加该地区）",
                    a.folder
                ));
            }
        }
    }
    out
}
