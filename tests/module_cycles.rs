//! No cycle between the top-level modules of a crate: a module that uses another must not be
//! used by it, directly or through others. Layers that do not loop can be read, tested and
//! moved (into a crate of their own) one at a time.
//!
//! The graph is drawn from the source text: module `a` uses `b` when a file of `a` names a
//! `crate::b` path (also inside `use crate::{b, c::d}`, or `super::b` from `a`'s top file).
//! Comments, and everything after a file's `#[cfg(test)]`, do not count, nor do files named
//! `tests.rs`: tests may use any module. The top-level modules are those that the crate's
//! `lib.rs` declares (`mod name;`); files of a binary beside it are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source roots (a crate's `src`) whose modules must not form a cycle, relative to the
/// repository's root: the checker's and the daemon's.
const ROOTS: &[&str] = &["crates/nianbao-check/src", "src"];

/// Module -> the modules it uses.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_form_no_cycle() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for root in ROOTS {
        let graph = graph_of(&repo.join(root));
        assert!(
            graph.len() > 1 && graph.values().any(|uses| !uses.is_empty()),
            "{root}: no modules or no uses found; is the root right? {graph:?}"
        );
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{root}: the top-level modules form a cycle: {}\n(the whole graph: {graph:#?})",
                cycle.join(" -> ")
            );
        }
    }
}

/// The graph of the top-level modules of the crate whose sources are under `root`.
fn graph_of(root: &Path) -> Graph {
    let lib = std::fs::read_to_string(root.join("lib.rs"))
        .unwrap_or_else(|e| panic!("{}: {e}", root.join("lib.rs").display()));
    let modules = declared_modules(&lib);
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in rust_files(root) {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let relative = file.strip_prefix(root).unwrap_or(&file);
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let Some(top) = parts.first().filter(|t| modules.contains(*t)) else {
            continue; // lib.rs itself, or a file that is not one of the library's modules
        };
        // How many `super::` lead from this file to the crate's root.
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for used in uses(&text, depth) {
            if used != *top && modules.contains(&used) {
                graph.entry(top.clone()).or_default().insert(used);
            }
        }
    }
    graph
}

/// The `.rs` files under `dir`, at any depth.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The modules that `lib.rs` declares: `mod name;` and `pub mod name;` (any visibility).
fn declared_modules(lib: &str) -> BTreeSet<String> {
    code_of(lib)
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_suffix(';')?;
            let (before, name) = rest.rsplit_once("mod ")?;
            let visibility = before.trim();
            let plain = visibility.is_empty() || visibility.starts_with("pub");
            (plain && is_ident(name.trim())).then(|| name.trim().to_string())
        })
        .collect()
}

/// A file's text without comments and without what follows its first `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path of a file (and of every `super::` path that
/// climbs `depth` levels, to the crate's root).
fn uses(text: &str, depth: usize) -> BTreeSet<String> {
    let code = code_of(text);
    let mut out = BTreeSet::new();
    let mut prefixes = vec!["crate::".to_string()];
    if depth > 0 {
        prefixes.push("super::".repeat(depth));
    }
    for prefix in &prefixes {
        let mut at = 0;
        while let Some(i) = code[at..].find(prefix.as_str()) {
            let start = at + i;
            at = start + prefix.len();
            // `crate::` inside a longer name (`my_crate::`), or a `super::` run longer than
            // the one asked for, is not this path.
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at..];
            if rest.starts_with("super::") {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                out.extend(group_heads(group));
            } else if let Some(name) = ident_at(rest) {
                out.insert(name);
            }
        }
    }
    out
}

/// The first segment of each item of a `{a, b::c, d::{e, f}}` group (`rest` starts after its
/// opening brace).
fn group_heads(rest: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if c.is_whitespace() => {}
            _ if item_start && depth == 0 => {
                item_start = false;
                if let Some(name) = ident_at(&rest[i..]) {
                    heads.push(name);
                }
            }
            _ => {}
        }
    }
    heads
}

/// The identifier at the start of `s`, if any.
fn ident_at(s: &str) -> Option<String> {
    let name: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    is_ident(&name).then_some(name)
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// A cycle of the graph, as the modules along it with the first one again at the end.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &'a Graph,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..].iter().map(|n| n.to_string()).collect();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node, Mark::Open);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_reader_of_paths_finds_every_form() {
    let text = "use crate::a::X;\nuse crate::{b, c::{D, E},\n    d::F};\n\
                fn f() { crate::e::g(); super::h::i(); super::super::j::k(); }\n\
                // crate::commented\n/// [`crate::doc_link`]\nlet s = my_crate::not_ours;\n\
                #[cfg(test)]\nmod tests { use crate::after_tests; }";
    let found = uses(text, 2);
    let want: BTreeSet<String> = ["a", "b", "c", "d", "e", "j"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, want);
    let lib = "//! doc\npub mod a;\nmod b;\npub(crate) mod c;\npub use x::y;\n#[cfg(test)]\nmod t;";
    let want: BTreeSet<String> = ["a", "b", "c"].into_iter().map(String::from).collect();
    assert_eq!(declared_modules(lib), want);
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    let cycle = find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "b")])).expect("a cycle");
    assert_eq!(cycle, ["b", "c", "b"]);
}
