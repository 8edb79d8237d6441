//! The shape of the house, checked on every `cargo test` (and so in CI):
//! no import cycle between source files, and no source file over 600 lines
//! without a reason stated at its top.
//!
//! The import graph is read from the source text: every `crate::` and
//! `super::` path (including `use crate::a::{b, c::d}` groups) is an edge
//! from the file it appears in to the file that defines the module it
//! names. Unit tests (`#[cfg(test)] mod tests { .. }` at the end of a file)
//! and comments are not part of the house and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most lines a source file may have without saying why at its top.
const MOST_LINES: usize = 600;
/// What a longer file's opening comment must contain, followed by the reason.
const REASON_MARK: &str = "Longer than 600 lines:";

type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `lib.rs` and
/// `main.rs` are the crate root (empty).
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source with comments and the trailing unit-test module removed.
fn house_text(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest prefix of `path` that is a known module file.
fn resolve(modules: &BTreeSet<Module>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|m| modules.contains(m))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `crate::…`/`super::…` path in `text`, as segments from the crate
/// root (`super` is the importing module's parent). Use-groups
/// `{a, b::c}` expand into one path per item.
fn paths_in(text: &str, module: &Module) -> Vec<Module> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !is_ident(chars[i - 1]);
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let (keyword, len) = if rest.starts_with("crate::") {
            ("crate", 7)
        } else if rest.starts_with("super::") {
            ("super", 7)
        } else {
            i += 1;
            continue;
        };
        if !starts_word {
            i += 1;
            continue;
        }
        // `crate` is the root; `super` is the importing module's parent.
        let mut base: Module = if keyword == "crate" {
            Vec::new()
        } else {
            module[..module.len().saturating_sub(1)].to_vec()
        };
        i += len;
        let mut segs: Module = Vec::new();
        loop {
            if i < chars.len() && chars[i] == '{' {
                // A use-group: one path per item (a nested group is read
                // for its first segments only, which is enough to find the
                // file).
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |p| i + p);
                let group: String = chars[i + 1..end].iter().collect();
                for item in group.split(',') {
                    let item = item.trim().split(" as ").next().unwrap_or("").trim();
                    if item.is_empty() || item == "self" {
                        continue;
                    }
                    let mut path = base.clone();
                    path.extend(segs.iter().cloned());
                    path.extend(
                        item.split("::")
                            .map(|s| s.trim_matches(|c: char| !is_ident(c)).to_string())
                            .filter(|s| !s.is_empty()),
                    );
                    found.push(path);
                }
                i = end;
                break;
            }
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            if i > start {
                let seg: String = chars[start..i].iter().collect();
                if seg == "super" && segs.is_empty() {
                    // `super::super::…`: one more level up.
                    base.pop();
                } else {
                    segs.push(seg);
                }
            }
            if i + 1 < chars.len() && chars[i] == ':' && chars[i + 1] == ':' {
                i += 2;
                continue;
            }
            break;
        }
        let mut path = base;
        path.extend(segs);
        found.push(path);
    }
    found
}

/// The import graph between the crate's source files.
fn import_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    source_files(src, &mut files);
    let by_module: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let modules: BTreeSet<Module> = by_module.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &by_module {
        let text = house_text(&std::fs::read_to_string(file).expect("read source"));
        let mut edges = BTreeSet::new();
        for path in paths_in(&text, module) {
            if let Some(target) = resolve(&modules, &path)
                && &target != module
                && !target.is_empty()
            {
                edges.insert(target);
            }
        }
        graph.insert(module.clone(), edges);
    }
    graph
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        on_stack: BTreeSet<&'g Module>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g Module) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.graph[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().expect("on stack");
                    self.on_stack.remove(w);
                    component.push(w.join("/"));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_cycle_between_source_files() {
    let graph = import_graph(&src());
    assert!(graph.len() > 20, "read the crate's files: {}", graph.len());
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between files (each line is one set of files that import each other): \n{}",
        found
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The layers hold: the domain is pure (it imports only itself and the
/// text helpers), and the frontends (command line, console, watch) are
/// imported by nothing below them.
#[test]
fn the_domain_is_pure_and_nothing_below_imports_a_frontend() {
    let graph = import_graph(&src());
    let top = |m: &Module| m.first().cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    for (module, edges) in &graph {
        for target in edges {
            if top(module) == "domain" && !["domain", "text"].contains(&top(target).as_str()) {
                wrong.push(format!("{} imports {}", module.join("/"), target.join("/")));
            }
            let frontend = ["commands", "cli", "tui", "watch", "setup"];
            let may_use_frontends = ["commands", "cli", "tui", "watch", "setup"];
            if frontend.contains(&top(target).as_str())
                && !may_use_frontends.contains(&top(module).as_str())
            {
                wrong.push(format!("{} imports {}", module.join("/"), target.join("/")));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn long_files_say_why_at_their_top() {
    let mut files = Vec::new();
    source_files(&src(), &mut files);
    let mut unexplained = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let lines = text.lines().count();
        if lines <= MOST_LINES {
            continue;
        }
        let opening: String = text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        let reason = opening
            .find(REASON_MARK)
            .map(|at| opening[at + REASON_MARK.len()..].trim_start_matches([' ', '/', '!']))
            .unwrap_or("");
        if reason.split_whitespace().count() < 4 {
            unexplained.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(
        unexplained.is_empty(),
        "over {MOST_LINES} lines with no \"{REASON_MARK} <reason>\" in the opening comment:\n{}",
        unexplained.join("\n")
    );
}

/// The checker itself finds a cycle when there is one, and reads `super`,
/// use-groups and nested paths the way rustc does.
#[test]
fn the_cycle_check_sees_a_planted_cycle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("shop")).expect("dir");
    std::fs::write(src.join("lib.rs"), "pub mod shop;\npub mod till;\n").expect("lib");
    std::fs::write(
        src.join("shop/mod.rs"),
        "pub mod shelf;\nuse crate::till::Till;\n",
    )
    .expect("shop");
    std::fs::write(
        src.join("shop/shelf.rs"),
        "// use crate::till; (a comment is not an import)\npub struct Shelf;\n",
    )
    .expect("shelf");
    std::fs::write(
        src.join("till.rs"),
        "use crate::{shop::shelf::Shelf, other};\npub struct Till;\n#[cfg(test)]\nmod tests {\n    use crate::shop::Anything;\n}\n",
    )
    .expect("till");
    let graph = import_graph(src);
    let shelf: Module = vec!["shop".into(), "shelf".into()];
    let till: Module = vec!["till".into()];
    assert!(graph[&till].contains(&shelf), "{graph:?}");
    assert!(cycles(&graph).is_empty(), "{graph:?}");

    // Now the shelf imports the till through `super`: shop -> till -> shelf -> ...
    std::fs::write(src.join("shop/shelf.rs"), "use super::super::till::Till;\n").expect("shelf");
    std::fs::write(src.join("till.rs"), "use crate::shop::shelf::Shelf;\n").expect("till");
    let found = cycles(&import_graph(src));
    assert_eq!(
        found,
        vec![vec!["shop/shelf".to_string(), "till".to_string()]],
        "{found:?}"
    );
}
