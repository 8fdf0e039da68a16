//! The centre's modules stand in layers with no circle (see the module doc of `lib.rs`): HTTP on top, then the
//! shared state, then the domain, then storage. This reads the sources: every `crate::…` and `super::…` path a
//! module names is an edge; an edge from a lower layer to a higher one fails, and so does any cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const STORAGE: &[&str] = &["sql", "db", "blobs", "error"];

fn rank(module: &str) -> u8 {
    match module {
        "lib" => 4,
        m if m == "http" || m.starts_with("http::") => 3,
        "state" => 2,
        m if STORAGE.contains(&m) => 0,
        _ => 1,
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file as its module: `lib`, `x` (for `x.rs` and anything under `x/`, except `http`), `http`,
/// `http::y`.
fn modules() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src()).expect("under src").with_extension("");
            let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            let name = match parts.as_slice() {
                [f] if f == "main" => continue,
                [f] => f.clone(),
                [d, f] if d == "http" && f == "mod" => "http".into(),
                [d, f] if d == "http" => format!("http::{f}"),
                [d, ..] => d.clone(),
                [] => continue,
            };
            out.push((name, path));
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The names at the top level of a brace group that starts at `s` (after the `{`).
fn group(s: &str) -> Vec<String> {
    let (mut depth, mut names, mut current) = (0, Vec::new(), String::new());
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    names.into_iter().map(|n| ident(n.trim())).filter(|n| !n.is_empty()).collect()
}

/// The first segments named after each `prefix` (`crate::` or `super::`) in `code`, and the second where the first
/// is `http`.
fn paths(code: &str, prefix: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(g) = rest.strip_prefix('{') {
            out.extend(group(g).into_iter().map(|n| (n, None)));
        } else {
            let first = ident(rest);
            let second = rest[first.len()..].strip_prefix("::").map(ident);
            out.push((first, second));
        }
    }
    out
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in modules() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let targets = graph.entry(module.clone()).or_default();
        for (first, second) in paths(&code, "crate::") {
            let target = if root.join(format!("{first}.rs")).is_file() || root.join(&first).is_dir() {
                match (first.as_str(), second) {
                    ("http", Some(s)) if root.join("http").join(format!("{s}.rs")).is_file() => format!("http::{s}"),
                    _ => first,
                }
            } else if first == "params" {
                "sql".into()
            } else {
                "lib".into()
            };
            targets.insert(target);
        }
        if let Some(child) = module.strip_prefix("http::") {
            for (first, _) in paths(&code, "super::") {
                let target = if first == child || first == "self" {
                    continue;
                } else if root.join("http").join(format!("{first}.rs")).is_file() {
                    format!("http::{first}")
                } else {
                    "http".into()
                };
                targets.insert(target);
            }
        }
        targets.remove(&module);
    }
    graph
}

#[test]
fn no_module_imports_one_of_a_higher_layer() {
    let graph = edges();
    assert!(graph.len() > 20 && graph.contains_key("http::tasks"), "modules found: {:?}", graph.keys());
    let wrong: Vec<String> = graph
        .iter()
        .flat_map(|(from, to)| to.iter().filter(|t| rank(t) > rank(from)).map(move |t| format!("{from} → {t}")))
        .collect();
    assert!(wrong.is_empty(), "lower layers importing higher ones: {wrong:?}");
}

#[test]
fn no_two_modules_import_each_other_and_there_is_no_circle() {
    let graph = edges();
    // Depth-first search; a module met again while it is still on the path closes a circle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut circle = path[at..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(circle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", circle.join(" → "));
        }
    }
}

#[test]
fn no_file_of_the_centre_is_over_400_lines() {
    let long: Vec<String> = modules()
        .into_iter()
        .chain([("main".to_string(), src().join("main.rs"))])
        .filter_map(|(_, p)| {
            let n = std::fs::read_to_string(&p).expect("readable").lines().count();
            (n > 400).then(|| format!("{}: {n}", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 400 lines: {long:?}");
}
