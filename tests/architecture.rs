//! The layers of `src/`, written once, and a test that keeps imports pointing down.
//!
//! Each top-level module sits in one layer; a module may use modules of its own layer or
//! of layers below, never above. And no files import each other in a circle (a child
//! using its own parent module through `super` is not an import in that sense: the parent
//! declares it). The imports are read from the source text: `crate::…` and `super::…`
//! paths, grouped `use` trees included; comments are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// From the ground up. A new top-level module must be placed here.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "domain",
            "signing",
            "telemetry",
            "memory",
            "checks",
            "sqlite_pool",
        ],
    ),
    ("configuration", &["config"]),
    ("plumbing", &["mssql", "mail"]),
    ("ports", &["store", "erp"]),
    ("identity and access", &["auth"]),
    ("services", &["inventory", "customers", "export", "demo"]),
    (
        "jobs and checks",
        &["reports", "history", "readiness", "preflight"],
    ),
    ("the schema", &["graphql"]),
    ("the application's state", &["state", "error"]),
    ("HTTP", &["web"]),
    ("assembly", &["startup"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// A source file and the module path it defines (`src/web/layout.rs` → `web::layout`).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    text: String,
}

fn source_files(root: &Path) -> Vec<SourceFile> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap();
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                let text = strip_comments(&std::fs::read_to_string(&path).unwrap());
                out.push(SourceFile { path, module, text });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The text without `//` comments and `/* */` blocks (doc links are not imports).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let (mut in_str, mut block) = (false, 0usize);
    while let Some(c) = chars.next() {
        if block > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                block += 1;
            }
            continue;
        }
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                block = 1;
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path that starts at `crate::` or `super::` in `text`, expanded from `use` trees,
/// as (start, segments after it).
fn paths(text: &str) -> Vec<(&'static str, Vec<String>)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            // Not part of a longer name (`$crate::`, `foo_crate::`).
            if at > 0 {
                let before = bytes[at - 1];
                if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' {
                    continue;
                }
                // `super::` after `super::` or `crate::` was handled with its start.
                if start == "super::" && at >= 2 && &text[at - 2..at] == "::" {
                    continue;
                }
            }
            let mut pos = at + start.len();
            let mut prefix = Vec::new();
            // `super::super::…` climbs more than once.
            let mut climbs = 0;
            if start == "super::" {
                while text[pos..].starts_with("super::") {
                    climbs += 1;
                    pos += "super::".len();
                }
                for _ in 0..=climbs {
                    prefix.push("super".to_owned());
                }
            }
            for tail in use_tree(text, &mut pos) {
                let mut p = prefix.clone();
                p.extend(tail);
                out.push((start, p));
            }
        }
    }
    out
}

/// Reads a use tree at `pos` (`a::b::C`, `a::{b, c::D}`, `*`), returning its paths.
fn use_tree(text: &str, pos: &mut usize) -> Vec<Vec<String>> {
    let skip_ws = |pos: &mut usize| {
        while text[*pos..].starts_with(|c: char| c.is_whitespace()) {
            *pos += text[*pos..].chars().next().unwrap().len_utf8();
        }
    };
    let mut segments = Vec::new();
    loop {
        skip_ws(pos);
        if text[*pos..].starts_with('{') {
            *pos += 1;
            let mut out = Vec::new();
            loop {
                skip_ws(pos);
                if text[*pos..].starts_with('}') {
                    *pos += 1;
                    break;
                }
                for tail in use_tree(text, pos) {
                    let mut p = segments.clone();
                    p.extend(tail);
                    out.push(p);
                }
                skip_ws(pos);
                if text[*pos..].starts_with(',') {
                    *pos += 1;
                } else if text[*pos..].starts_with('}') {
                    *pos += 1;
                    break;
                } else {
                    break;
                }
            }
            return out;
        }
        let ident: String = text[*pos..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if text[*pos..].starts_with('*') {
                *pos += 1;
            }
            break;
        }
        *pos += ident.len();
        segments.push(ident);
        if text[*pos..].starts_with("::") {
            *pos += 2;
        } else {
            // `as Alias` and the rest are not part of the path.
            break;
        }
    }
    vec![segments]
}

/// The file a module path points into: the longest prefix that is a file of `files`.
fn resolve<'a>(
    files: &'a BTreeMap<Vec<String>, usize>,
    path: &[String],
) -> Option<(&'a Vec<String>, usize)> {
    (1..=path.len())
        .rev()
        .find_map(|n| files.get_key_value(&path[..n]).map(|(k, v)| (k, *v)))
}

/// (from file, to file) for every import between two different files, leaving out a
/// file's use of its own ancestors.
fn imports(files: &[SourceFile]) -> BTreeSet<(usize, usize)> {
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let mut edges = BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        for (start, segs) in paths(&f.text) {
            let absolute: Vec<String> = if start == "crate::" {
                segs
            } else {
                let climbs = segs.iter().take_while(|s| *s == "super").count();
                if climbs > f.module.len() {
                    continue;
                }
                let mut p = f.module[..f.module.len() - climbs].to_vec();
                p.extend(segs.into_iter().skip(climbs));
                p
            };
            let Some((target, j)) = resolve(&by_module, &absolute) else {
                continue;
            };
            if j == i || f.module.starts_with(target) {
                continue;
            }
            edges.insert((i, j));
        }
    }
    edges
}

/// Groups of files that import each other in a circle (Tarjan's strongly connected
/// components of more than one file).
fn circles(n: usize, edges: &BTreeSet<(usize, usize)>) -> Vec<Vec<usize>> {
    struct Tarjan<'a> {
        next: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        out: &'a mut Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.counter);
            self.low[v] = self.counter;
            self.counter += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for w in self.next[v].clone() {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.out.push(group);
                }
            }
        }
    }
    let mut next = vec![Vec::new(); n];
    for &(a, b) in edges {
        next[a].push(b);
    }
    let mut out = Vec::new();
    let mut t = Tarjan {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        out: &mut out,
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let unplaced: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "place these modules in LAYERS (tests/architecture.rs): {unplaced:?}"
    );
}

#[test]
fn imports_only_point_down() {
    let files = source_files(&src());
    let mut up = Vec::new();
    for (i, j) in imports(&files) {
        let (from, to) = (&files[i], &files[j]);
        let (Some(a), Some(b)) = (
            from.module.first().and_then(|m| layer_of(m)),
            to.module.first().and_then(|m| layer_of(m)),
        ) else {
            continue;
        };
        if b > a {
            up.push(format!(
                "{} ({}) imports {} ({})",
                from.module.join("::"),
                LAYERS[a].0,
                to.module.join("::"),
                LAYERS[b].0
            ));
        }
    }
    assert!(
        up.is_empty(),
        "imports that run back up a layer:\n  {}",
        up.join("\n  ")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let files = source_files(&src());
    let edges = imports(&files);
    let found: Vec<String> = circles(files.len(), &edges)
        .into_iter()
        .map(|group| {
            let mut names: Vec<String> =
                group.iter().map(|&i| files[i].module.join("::")).collect();
            names.sort();
            names.join(" ↔ ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "files that import each other in a circle:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_reader_sees_imports_as_written() {
    let text = strip_comments(
        "use crate::{auth::access::{Denied, grant}, store::AppStore as S};\n\
         // use crate::web::hidden;\n\
         let x = crate::domain::Zone::utc(); use super::super::sibling::Thing; $crate::no;",
    );
    let found: Vec<Vec<String>> = paths(&text).into_iter().map(|(_, p)| p).collect();
    let want: Vec<Vec<String>> = [
        &["auth", "access", "Denied"][..],
        &["auth", "access", "grant"],
        &["store", "AppStore"],
        &["domain", "Zone", "utc"],
        &["super", "super", "sibling", "Thing"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(found, want);
}

/// `rust-version` in Cargo.toml is the truth: the newest any dependency asks for (an
/// older toolchain would fail inside a dependency with a confusing error instead of
/// cargo's plain message), and our own code is held to it by clippy's `incompatible_msrv`.
#[test]
fn rust_version_is_the_newest_any_dependency_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = |v: &serde_json::Value| -> Option<(u64, u64)> {
        let mut parts = v.as_str()?.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??))
    };
    let packages = meta["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == "customer-portal")
        .and_then(|p| version(&p["rust_version"]))
        .expect("customer-portal declares rust-version");
    let (needed, by) = packages
        .iter()
        .filter(|p| p["source"].is_string())
        .filter_map(|p| Some((version(&p["rust_version"])?, p["name"].as_str()?.to_owned())))
        .max()
        .expect("dependencies declare rust versions");
    assert_eq!(
        ours, needed,
        "rust-version {ours:?} in Cargo.toml, but {by} needs {needed:?}: set it to the newest a dependency needs"
    );
}

#[test]
fn a_circle_of_three_files_is_found_and_a_chain_is_not() {
    let edges: BTreeSet<(usize, usize)> = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)].into();
    let mut found = circles(5, &edges);
    for group in &mut found {
        group.sort();
    }
    assert_eq!(found, vec![vec![0, 1, 2]]);
}
