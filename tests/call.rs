//! The one-shot commands an operator runs by hand: `call` (one tool, once, against a real
//! upstream), `health` (what the container image's HEALTHCHECK runs), and the completion
//! scripts and man pages generated from the CLI definition.

use std::io::Write as _;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::common::gateway::{is_error, petstore, text};
use crate::common::upstream;
use crate::common::{bin, path, runtime, write};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `mcp-gateway call gateways/petstore/gateway.yaml ARGS…` against `base_url`.
fn call(base_url: &str, args: &[&str]) -> Output {
    bin()
        .arg("call")
        .arg(path("gateways/petstore/gateway.yaml"))
        .args(args)
        .env("PETSTORE_BASE_URL", base_url)
        .output()
        .expect("the mcp-gateway binary runs")
}

fn result(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

#[test]
fn call_runs_one_tool_against_the_upstream_and_prints_the_mcp_result() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let ok = call(&up.url(), &["get_pet", r#"{"pet_id": 7}"#]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let r = result(&ok);
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"]["id"], 7, "{r}");
    assert_eq!(r["structuredContent"]["name"], "Rex", "{r}");
    let seen = up.last();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("GET", "/pets/7")
    );

    // Arguments from stdin, a POST body built from them, the result on one line.
    let mut child = bin()
        .arg("call")
        .arg(path("gateways/petstore/gateway.yaml"))
        .args(["add_pet", "-", "--compact"])
        .env("PETSTORE_BASE_URL", up.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mcp-gateway binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(br#"{"name": "Fido", "tag": "dog", "status": "pending"}"#)
        .expect("arguments written");
    let added = child.wait_with_output().expect("call finishes");
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    assert_eq!(
        stdout(&added).trim_end().lines().count(),
        1,
        "{}",
        stdout(&added)
    );
    assert_eq!(result(&added)["structuredContent"]["id"], 99);
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.uri.as_str()), ("POST", "/pets"));
    let body: Value = serde_json::from_str(&seen.body).expect("a JSON body");
    assert_eq!(
        body,
        serde_json::json!({"name": "Fido", "tag": "dog", "status": "pending"})
    );
}

#[test]
fn call_exits_1_with_the_error_result_when_the_tool_fails() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    // The upstream answers 404.
    let missing = call(&up.url(), &["get_pet", r#"{"pet_id": 404}"#]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    let r = result(&missing);
    assert!(is_error(&r), "{r}");
    assert!(text(&r).contains("404"), "{r}");

    // Arguments that break the tool's schema never reach the upstream.
    let before = up.requests().len();
    let bad = call(&up.url(), &["get_pet", r#"{"pet_id": "seven"}"#]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(text(&result(&bad)).contains("pet_id"), "{}", stdout(&bad));
    assert_eq!(up.requests().len(), before);

    // Nothing listens at the upstream's address.
    let down = call("http://127.0.0.1:9", &["get_pet", r#"{"pet_id": 1}"#]);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert!(is_error(&result(&down)), "{}", stdout(&down));
}

#[test]
fn call_exits_2_for_usage_errors_and_manifests_that_do_not_compile() {
    let unknown = call("http://127.0.0.1:9", &["get_pets", "{}"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(unknown.stdout.is_empty());
    let err = stderr(&unknown);
    assert!(
        err.contains("has no tool `get_pets`. Did you mean `get_pet`?"),
        "{err}"
    );
    assert!(
        err.contains("Its tools: add_pet, delete_pet, find_pets"),
        "{err}"
    );

    let not_json = call("http://127.0.0.1:9", &["get_pet", "{pet_id: 1}"]);
    assert_eq!(not_json.status.code(), Some(2));
    assert!(
        stderr(&not_json).contains("the arguments are not JSON"),
        "{}",
        stderr(&not_json)
    );

    let not_object = call("http://127.0.0.1:9", &["get_pet", "[1]"]);
    assert_eq!(not_object.status.code(), Some(2));
    assert!(
        stderr(&not_object)
            .contains("must be a JSON object such as '{\"pet_id\": 1}', not an array"),
        "{}",
        stderr(&not_object)
    );

    let dir = tempfile::tempdir().unwrap();
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!("name: x\nopenapi: {spec}\ntools:\n  - operation: getPetByID\n"),
    );
    let invalid = bin()
        .arg("call")
        .arg(&manifest)
        .arg("get_pet_by_id")
        .output()
        .expect("the mcp-gateway binary runs");
    assert_eq!(invalid.status.code(), Some(2));
    let err = stderr(&invalid);
    assert!(
        err.contains("error[unknown-operation]: the spec has no operation `getPetByID`"),
        "{err}"
    );
    assert!(err.contains("does not compile"), "{err}");
}

#[test]
fn health_exits_0_while_the_gateway_is_ready_and_1_when_nothing_answers() {
    let rt = runtime();
    let (_up, gw) = petstore(&rt, &[]);
    let addr = gw.origin().trim_start_matches("http://").to_string();

    let by_url = bin()
        .args(["health", &format!("{}/readyz", gw.origin())])
        .output()
        .expect("runs");
    assert_eq!(by_url.status.code(), Some(0), "{}", stderr(&by_url));
    assert!(
        stdout(&by_url).starts_with("ready: petstore"),
        "{}",
        stdout(&by_url)
    );

    // The default URL comes from the address `serve` listens on, as in the container image.
    let by_listen = bin()
        .arg("health")
        .env("MCP_GATEWAY_LISTEN", &addr)
        .output()
        .expect("runs");
    assert_eq!(by_listen.status.code(), Some(0), "{}", stderr(&by_listen));
    assert!(stdout(&by_listen).starts_with("ready: petstore"));
    let live = bin()
        .args(["health", "--live", "--listen", &addr])
        .output()
        .expect("runs");
    assert_eq!(live.status.code(), Some(0), "{}", stderr(&live));
    assert_eq!(stdout(&live), "ok\n");

    let not_found = bin()
        .args(["health", &format!("{}/nope", gw.origin())])
        .output()
        .expect("runs");
    assert_eq!(not_found.status.code(), Some(1));
    assert!(stderr(&not_found).contains("404"), "{}", stderr(&not_found));

    drop(gw);
    let down = bin()
        .args(["health", "--listen", &addr])
        .output()
        .expect("runs");
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stderr(&down).contains("nothing is listening there"),
        "{}",
        stderr(&down)
    );
}

#[test]
fn completions_and_man_pages_are_generated_from_the_cli_definition() {
    let root = path("");
    for (shell, marker) in [
        ("bash", "complete -F _mcp__gateway"),
        ("zsh", "#compdef mcp-gateway"),
        ("fish", "complete -c mcp-gateway"),
    ] {
        let o = crate::common::run_in(&root, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: {script}");
        // Every subcommand and a flag of `serve` are offered.
        for word in ["serve", "validate", "call", "health", "--allowed-host"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash: sourcing it defines the completion.
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok()
    {
        let o = crate::common::run_in(&root, &["completions", "bash"]);
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "mcp-gateway.bash", &stdout(&o));
        let check = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {} && complete -p mcp-gateway",
                file.display()
            ))
            .output()
            .expect("bash runs");
        assert!(check.status.success(), "{}", stderr(&check));
    }
    let unknown = crate::common::run_in(&root, &["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));

    let man = crate::common::run_in(&root, &["man"]);
    assert_eq!(man.status.code(), Some(0), "{}", stderr(&man));
    let page = stdout(&man);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH mcp-gateway 1"), "{page}");
    assert!(page.contains("mcp\\-gateway\\-serve(1)"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let pages = crate::common::run_in(&root, &["man", "--dir", out.to_str().unwrap()]);
    assert_eq!(pages.status.code(), Some(0), "{}", stderr(&pages));
    for name in ["mcp-gateway.1", "mcp-gateway-serve.1", "mcp-gateway-call.1"] {
        let text =
            std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name}");
    }
    let serve = std::fs::read_to_string(out.join("mcp-gateway-serve.1")).unwrap();
    assert!(serve.contains("allowed\\-host"), "{serve}");
}
