//! The modules' dependencies point down the data flow only: a module may use one of its own
//! stage or of a stage below, never one above. The stages are written down once, here; a
//! `crate::…` path in the code of `src/` (comments and `#[cfg(test)]` code aside) that goes up
//! fails this test unless it is a listed exception, which names its reason, so the debt stays
//! visible.

use std::path::Path;

use crate::common::path;

/// The stages, bottom first. A module may use modules of its own row and of the rows above it
/// in this list.
const STAGES: &[(&str, &[&str])] = &[
    (
        "vocabulary",
        &[
            "secret",
            "digest",
            "tls",
            "diag",
            "uri_template",
            "stream_schema",
            "json_read",
        ],
    ),
    ("input", &["manifest", "openapi"]),
    ("ir", &["gateway"]),
    ("compile", &["compile"]),
    (
        "running",
        &["runtime", "upstream", "auth", "limit", "telemetry", "lock"],
    ),
    ("serving", &["mcp"]),
    ("reload", &["reload"]),
    ("process", &["server", "cli"]),
];

/// Back edges that remain, each `(file, module used, why)`. Remove a row when its edge is gone
/// (the test fails on a row that no longer matches anything).
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn stage_of(module: &str) -> usize {
    STAGES
        .iter()
        .position(|(_, ms)| ms.contains(&module))
        .unwrap_or_else(|| {
            panic!("module `{module}` is in no stage: add it to STAGES in tests/layering.rs")
        })
}

/// The code of a source file: up to its first `#[cfg(test)]`, without `//` comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::` (including `crate::{a, b}`).
fn used_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_a_stage_above_its_own() {
    let src = path("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut back_edges = Vec::new();
    let mut excused = vec![false; EXCEPTIONS.len()];
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let shown = format!("src/{}", rel.display());
        // The crate root and the binary see everything; test-only files are not layering.
        if rel == Path::new("lib.rs")
            || rel == Path::new("main.rs")
            || rel.file_name().is_some_and(|n| n == "tests.rs")
        {
            continue;
        }
        let first = rel.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs");
        let own = stage_of(module);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut used = used_modules(&code(&text));
        used.sort();
        used.dedup();
        for dep in used {
            if dep == module || stage_of(&dep) <= own {
                continue;
            }
            match EXCEPTIONS
                .iter()
                .position(|(f, m, _)| *f == shown && *m == dep)
            {
                Some(i) => excused[i] = true,
                None => back_edges.push(format!(
                    "{shown}: `{module}` ({}) uses `{dep}` ({})",
                    STAGES[own].0,
                    STAGES[stage_of(&dep)].0
                )),
            }
        }
    }
    assert!(
        back_edges.is_empty(),
        "modules that use a stage above their own (move the shared type down, or list the edge in EXCEPTIONS with its reason):\n{}",
        back_edges.join("\n")
    );
    let stale: Vec<_> = EXCEPTIONS
        .iter()
        .zip(excused)
        .filter(|(_, used)| !used)
        .map(|((f, m, _), _)| format!("{f} → {m}"))
        .collect();
    assert!(
        stale.is_empty(),
        "exceptions that no longer happen (remove them): {stale:?}"
    );
}

#[test]
fn the_reader_finds_plain_grouped_and_nested_paths_but_not_comments_or_tests() {
    let text = "use crate::gateway::Tool;\nuse crate::{auth, mcp::Shared};\n// crate::cli in a comment\nfn f() { crate::upstream::client_builder(); }\n#[cfg(test)]\nmod tests { use crate::reload; }\n";
    assert_eq!(
        used_modules(&code(text)),
        ["gateway", "auth", "mcp", "upstream"]
    );
}
