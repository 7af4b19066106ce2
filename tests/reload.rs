//! Hot reload: edits to the files a served gateway is built from change what clients see,
//! without a restart, without failing a call, and without ever serving a version that does not
//! compile. Driven by the official Rust SDK client (rmcp, both protocol eras) and the official
//! TypeScript SDK client against the real binary and a real upstream.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, ClientRequest, ListToolsRequest, ServerResult, SubscriptionFilter,
};
use serde_json::json;

use crate::common::gateway::{
    Client, Gateway, client_2025, client_2026, serve, tool_names, ts_client,
};
use crate::common::upstream::{self, Upstream};
use crate::common::{path, runtime};

/// A gateway folder in a temp dir: the petstore spec and a manifest written by [`manifest`].
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(base_url: &str, version: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(
            path("gateways/petstore/openapi.yaml"),
            dir.path().join("openapi.yaml"),
        )
        .expect("spec copied");
        let f = Self { dir };
        std::fs::write(f.manifest(), manifest("petstore", base_url, version, true))
            .expect("manifest written");
        f
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("gateway.yaml")
    }
}

/// A manifest whose `inventory` tool description names `version`, with a tool whose name
/// carries the version (a rename on every change) and, when `extra`, one more tool.
fn manifest(name: &str, base_url: &str, version: &str, extra: bool) -> String {
    let mut m = format!(
        "format: 1\nname: {name}\nopenapi: openapi.yaml\nupstream:\n  base_url: {base_url}\ntools:\n  \
         - operation: getInventory\n    name: inventory\n    description: Stock per status (version {version}).\n    \
         params: {{X-Api-Version: {{fixed: '2025-06-01'}}}}\n  \
         - operation: getPetById\n    name: get_pet_{version}\n"
    );
    if extra {
        m.push_str("  - operation: listPets\n    name: find_pets\n");
    }
    m
}

/// A manifest that does not compile, carrying a marker that must never be served.
fn broken_manifest(base_url: &str, marker: &str) -> String {
    format!(
        "format: 1\nname: petstore\nopenapi: openapi.yaml\nupstream:\n  base_url: {base_url}\ntools:\n  \
         - operation: getInventory\n    name: inventory\n    description: Stock per status (version {marker}).\n  \
         - operation: noSuchOperation\n"
    )
}

/// `tools/list` straight from the server (the SDK's list cache is bypassed on purpose: the
/// test must see what the server serves now).
async fn list(client: &Client) -> Vec<(String, String)> {
    let r = client
        .peer()
        .send_request(ClientRequest::ListToolsRequest(ListToolsRequest {
            method: Default::default(),
            params: None,
            extensions: Default::default(),
        }))
        .await
        .expect("tools/list answers");
    let ServerResult::ListToolsResult(r) = r else {
        panic!("tools/list answered {r:?}");
    };
    r.tools
        .into_iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.description.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

fn names(tools: &[(String, String)]) -> Vec<&str> {
    tools.iter().map(|(n, _)| n.as_str()).collect()
}

/// Polls `tools/list` until `pred` holds (or fails after 10 s, printing the gateway's log).
async fn until(
    client: &Client,
    gw: &Gateway,
    what: &str,
    pred: impl Fn(&[(String, String)]) -> bool,
) {
    let start = Instant::now();
    loop {
        let tools = list(client).await;
        if pred(&tools) {
            return;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let log: Vec<String> = gw.log.try_iter().collect();
            panic!(
                "{what}: still serving {:?}\ngateway log:\n{}",
                names(&tools),
                log.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("the gateway answers")
        .text()
        .await
        .expect("text body")
}

/// A metric's value for the gateway `gw` from `/metrics`.
async fn metric(origin: &str, name: &str) -> u64 {
    let body = get_text(&format!("{origin}/metrics")).await;
    body.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in /metrics:\n{body}"))
}

async fn until_metric(origin: &str, name: &str, pred: impl Fn(u64) -> bool) -> u64 {
    let start = Instant::now();
    loop {
        let v = metric(origin, name).await;
        if pred(v) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name} stayed at {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const STALE: &str = "mcp_gateway_config_stale{gateway=\"petstore\"}";
const GENERATION: &str = "mcp_gateway_config_generation{gateway=\"petstore\"}";
const REJECTED: &str = "mcp_gateway_reloads_total{gateway=\"petstore\",result=\"rejected\"}";
const UNCHANGED: &str = "mcp_gateway_reloads_total{gateway=\"petstore\",result=\"unchanged\"}";

fn start(up: &Upstream, version: &str, args: &[&str]) -> (Fixture, Gateway) {
    let f = Fixture::new(&up.url(), version);
    let gw = serve(&f.manifest(), args, &[]);
    (f, gw)
}

#[test]
fn a_saved_edit_is_served_without_restart() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (f, gw) = start(&up, "v1", &[]);
        let client = client_2025(&gw.url).await;
        assert_eq!(
            names(&list(&client).await),
            ["inventory", "get_pet_v1", "find_pets"]
        );
        std::fs::write(f.manifest(), manifest("petstore", &up.url(), "v2", false)).unwrap();
        until(&client, &gw, "the edit is served", |t| {
            names(t) == ["inventory", "get_pet_v2"]
        })
        .await;
        let tools = list(&client).await;
        assert!(tools[0].1.contains("version v2"), "{tools:?}");
        // The renamed tool really works, and the removed one is really gone.
        let ok = client
            .call_tool(
                CallToolRequestParams::new("get_pet_v2")
                    .with_arguments(json!({"petId": 3}).as_object().cloned().unwrap()),
            )
            .await
            .expect("the new tool is called");
        assert_ne!(ok.is_error, Some(true), "{ok:?}");
        assert_eq!(up.last().uri, "/pets/3");
        let gone = client
            .call_tool(CallToolRequestParams::new("get_pet_v1"))
            .await;
        assert!(gone.is_err(), "the old tool is still callable: {gone:?}");
        assert_eq!(metric(&gw.origin(), GENERATION).await, 2);
    });
}

#[test]
fn a_save_that_changes_nothing_swaps_nothing() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (f, gw) = start(&up, "v1", &[]);
        let text = std::fs::read(f.manifest()).unwrap();
        let before = metric(&gw.origin(), UNCHANGED).await;
        std::fs::write(f.manifest(), &text).unwrap();
        until_metric(&gw.origin(), UNCHANGED, |v| v > before).await;
        assert_eq!(metric(&gw.origin(), GENERATION).await, 1);
        // SIGHUP recompiles (re-reading everything) but the result is the same: no swap either.
        let pid = gw.pid().to_string();
        let before = metric(&gw.origin(), UNCHANGED).await;
        assert!(
            std::process::Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        );
        until_metric(&gw.origin(), UNCHANGED, |v| v > before).await;
        assert_eq!(metric(&gw.origin(), GENERATION).await, 1);
    });
}

#[test]
fn a_broken_edit_is_never_served_and_marks_the_config_stale() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (f, gw) = start(&up, "v1", &[]);
        let client = client_2025(&gw.url).await;
        std::fs::write(f.manifest(), broken_manifest(&up.url(), "BAD")).unwrap();
        until_metric(&gw.origin(), STALE, |v| v == 1).await;
        let tools = list(&client).await;
        assert_eq!(names(&tools), ["inventory", "get_pet_v1", "find_pets"]);
        assert!(!tools[0].1.contains("BAD"));
        let ready = get_text(&format!("{}/readyz", gw.origin())).await;
        assert!(
            ready.contains("stale:") && ready.contains("noSuchOperation"),
            "{ready}"
        );
        // The log carries the same diagnostic `validate` prints, pointing at the line.
        let log: Vec<String> = gw.log.try_iter().collect();
        let log = log.join("\n");
        assert!(
            log.contains("noSuchOperation") && log.contains("gateway.yaml:"),
            "{log}"
        );
        assert!(log.contains("reload refused"), "{log}");
        // YAML that does not even parse is refused the same way.
        std::fs::write(f.manifest(), "tools: [unclosed\n").unwrap();
        until_metric(&gw.origin(), REJECTED, |v| v >= 2).await;
        assert_eq!(
            names(&list(&client).await),
            ["inventory", "get_pet_v1", "find_pets"]
        );
        // Fixing it serves the fix and clears the flag.
        std::fs::write(f.manifest(), manifest("petstore", &up.url(), "v3", true)).unwrap();
        until(&client, &gw, "the fix is served", |t| {
            names(t).contains(&"get_pet_v3")
        })
        .await;
        assert_eq!(metric(&gw.origin(), STALE).await, 0);
    });
}

#[test]
fn renaming_a_served_gateway_is_refused_by_name() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (f, gw) = start(&up, "v1", &[]);
        std::fs::write(f.manifest(), manifest("other", &up.url(), "v2", true)).unwrap();
        until_metric(&gw.origin(), STALE, |v| v == 1).await;
        // The gauge can move before the log line reaches the pipe: read until it comes.
        let mut log = String::new();
        while !log.contains("`name` changed from `petstore` to `other`") {
            match gw.log.recv_timeout(std::time::Duration::from_secs(10)) {
                Ok(line) => log.push_str(&(line + "\n")),
                Err(_) => panic!("no log line names the renamed gateway: {log}"),
            }
        }
        let client = client_2025(&gw.url).await;
        assert!(names(&list(&client).await).contains(&"get_pet_v1"));
    });
}

/// Saves the manifest the way `how` does, with `text`.
fn save(manifest: &Path, text: &str, how: &str) {
    let dir = manifest.parent().unwrap();
    match how {
        // vim, JetBrains, `sed -i`: write a new file, rename it over the old one.
        "rename" => {
            let tmp = dir.join(".gateway.yaml.swp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, manifest).unwrap();
        }
        // Some editors and `cp` scripts: delete, then create.
        "recreate" => {
            std::fs::remove_file(manifest).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            std::fs::write(manifest, text).unwrap();
        }
        _ => unreachable!(),
    }
}

/// Calls `inventory` in a loop until `stop`, counting failures.
fn caller(
    client: Arc<Client>,
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            match client
                .call_tool(CallToolRequestParams::new("inventory"))
                .await
            {
                Ok(r) if r.is_error != Some(true) => {}
                other => {
                    let mut f = failures.lock().unwrap();
                    if f.len() < 5 {
                        f.push(format!("{other:?}"));
                    }
                }
            }
            calls.fetch_add(1, Ordering::Relaxed);
        }
    })
}

async fn editor_case(how: &str) {
    let up = upstream::start().await;
    let (f, gw) = start(&up, "v1", &[]);
    let client = Arc::new(client_2025(&gw.url).await);
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let task = caller(
        client.clone(),
        stop.clone(),
        calls.clone(),
        failures.clone(),
    );
    for v in ["v2", "v3", "v4"] {
        save(
            &f.manifest(),
            &manifest("petstore", &up.url(), v, true),
            how,
        );
        let want = format!("get_pet_{v}");
        until(&client, &gw, how, |t| names(t).contains(&want.as_str())).await;
    }
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    assert!(calls.load(Ordering::Relaxed) > 0);
    assert_eq!(*failures.lock().unwrap(), Vec::<String>::new());
}

#[test]
fn an_editor_saving_by_rename_is_not_missed() {
    runtime().block_on(editor_case("rename"));
}

#[test]
fn delete_then_recreate_is_picked_up_and_never_fails_a_call() {
    runtime().block_on(editor_case("recreate"));
}

#[test]
fn a_configmap_symlink_swap_is_not_missed() {
    // Kubernetes mounts a ConfigMap as `NAME -> ..data/NAME`, `..data -> ..<timestamp>/`, and
    // updates it by creating a new timestamped folder and renaming a new `..data` link over
    // the old one; the files themselves are never written.
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let root = tempfile::tempdir().unwrap();
        let version_dir = |v: &str| {
            let d = root.path().join(format!("..2026_11_25_{v}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::copy(
                path("gateways/petstore/openapi.yaml"),
                d.join("openapi.yaml"),
            )
            .unwrap();
            std::fs::write(
                d.join("gateway.yaml"),
                manifest("petstore", &up.url(), v, true),
            )
            .unwrap();
            d
        };
        let first = version_dir("v1");
        std::os::unix::fs::symlink(first.file_name().unwrap(), root.path().join("..data")).unwrap();
        for f in ["gateway.yaml", "openapi.yaml"] {
            std::os::unix::fs::symlink(format!("..data/{f}"), root.path().join(f)).unwrap();
        }
        let gw = serve(&root.path().join("gateway.yaml"), &[], &[]);
        let client = client_2025(&gw.url).await;
        assert!(names(&list(&client).await).contains(&"get_pet_v1"));
        let mut old = first;
        for v in ["v2", "v3"] {
            let new = version_dir(v);
            let tmp = root.path().join("..data_tmp");
            std::os::unix::fs::symlink(new.file_name().unwrap(), &tmp).unwrap();
            std::fs::rename(&tmp, root.path().join("..data")).unwrap();
            std::fs::remove_dir_all(&old).unwrap();
            old = new;
            let want = format!("get_pet_{v}");
            until(&client, &gw, "the ConfigMap update is served", |t| {
                names(t).contains(&want.as_str())
            })
            .await;
        }
    });
}

/// A session's calls are answered by the fast path (as JSON, which the TypeScript SDK takes
/// inside a session too), and its GET stream still hears that the tools changed.
#[test]
fn a_session_client_is_told_that_the_tools_changed() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let (f, gw) = start(&up, "v1", &["--sessions"]);
    let manifest_path = f.manifest().display().to_string();
    let out = ts_client(
        &["http", &gw.url],
        &json!([
            {"op": "list"},
            {"op": "call", "name": "get_pet_v1", "arguments": {"petId": 7}},
            {"op": "write", "path": manifest_path, "text": manifest("petstore", &up.url(), "v2", true)},
            {"op": "wait_tools_changed", "timeout_ms": 10000},
            {"op": "list"},
            {"op": "call", "name": "get_pet_v2", "arguments": {"petId": 8}},
        ]),
        &[],
    );
    assert_eq!(out[2]["structuredContent"]["id"], 7, "{out:?}");
    assert_eq!(out[4], json!({"received": true}), "{out:?}");
    let listed = tool_names(&out[5]);
    assert!(listed.contains(&"get_pet_v2"), "{listed:?}");
    assert_eq!(out[6]["structuredContent"]["id"], 8, "{out:?}");
    let fast = "mcp_gateway_requests_total{gateway=\"petstore\",path=\"fast\"}";
    assert_eq!(
        rt.block_on(metric(&gw.origin(), fast)),
        2,
        "both calls by the fast path"
    );
}

#[test]
fn a_2026_listener_is_told_that_the_tools_changed() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        // Stateless (the default): 2026-07-28 clients still get pushes on their listen stream.
        let (f, gw) = start(&up, "v1", &[]);
        let client = client_2026(&gw.url).await;
        let mut sub = client
            .peer()
            .listen(SubscriptionFilter::builder().tools_list_changed().build())
            .await
            .expect("subscriptions/listen is acknowledged");
        assert_eq!(sub.acknowledged().tools_list_changed, Some(true));
        std::fs::write(f.manifest(), manifest("petstore", &up.url(), "v2", true)).unwrap();
        let n = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("a notification within 10 s")
            .expect("the subscription is open")
            .expect("a notification");
        assert!(
            matches!(
                n,
                rmcp::model::ServerNotification::ToolListChangedNotification(_)
            ),
            "{n:?}"
        );
        assert!(names(&list(&client).await).contains(&"get_pet_v2"));
    });
}

#[test]
fn calls_never_fail_while_the_manifest_is_rewritten_under_load() {
    let rt = runtime();
    rt.block_on(async {
        let up = upstream::start().await;
        let (f, gw) = start(&up, "v0", &[]);
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..4 {
            let client = Arc::new(if i % 2 == 0 {
                client_2025(&gw.url).await
            } else {
                client_2026(&gw.url).await
            });
            tasks.push(caller(
                client,
                stop.clone(),
                calls.clone(),
                failures.clone(),
            ));
        }
        // A lister records every description of `inventory` it ever sees.
        let seen = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let lister = {
            let client = client_2026(&gw.url).await;
            let (seen, stop) = (seen.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    for (name, desc) in list(&client).await {
                        if name == "inventory" {
                            seen.lock().unwrap().insert(desc);
                        }
                    }
                }
            })
        };
        // And a 2026 listener counts list_changed pushes.
        let listener_client = client_2026(&gw.url).await;
        let mut sub = listener_client
            .peer()
            .listen(SubscriptionFilter::builder().tools_list_changed().build())
            .await
            .expect("listen");
        let pushes = Arc::new(AtomicU64::new(0));
        let counter = {
            let pushes = pushes.clone();
            tokio::spawn(async move {
                while let Ok(Some(_)) = sub.next().await {
                    pushes.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let mut valid = Vec::new();
        for round in 1..=30 {
            let rejected = metric(&gw.origin(), REJECTED).await;
            if round % 3 == 0 {
                // Invalid: an unknown operation, or YAML that does not parse.
                let text = if round % 2 == 0 {
                    broken_manifest(&up.url(), &format!("BAD{round}"))
                } else {
                    format!("name: petstore\ntools: [ # BAD{round}\n")
                };
                std::fs::write(f.manifest(), text).unwrap();
                until_metric(&gw.origin(), REJECTED, |v| v > rejected).await;
            } else {
                let v = format!("v{round}");
                std::fs::write(
                    f.manifest(),
                    manifest("petstore", &up.url(), &v, round % 2 == 0),
                )
                .unwrap();
                let want = format!("Stock per status (version {v}).");
                let start = Instant::now();
                while !seen.lock().unwrap().contains(&want) {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "{v} was never listed"
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                valid.push(want);
            }
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        lister.await.unwrap();
        counter.abort();
        let failures = failures.lock().unwrap();
        assert!(
            calls.load(Ordering::Relaxed) > 100,
            "too few calls to mean anything"
        );
        assert_eq!(
            *failures,
            Vec::<String>::new(),
            "calls failed during reloads"
        );
        let seen = seen.lock().unwrap();
        assert!(
            seen.iter().all(|d| !d.contains("BAD")),
            "an invalid version was served: {seen:?}"
        );
        for v in &valid {
            assert!(seen.contains(v));
        }
        assert!(
            pushes.load(Ordering::Relaxed) >= 1,
            "the listener was never told"
        );
        eprintln!(
            "{} calls, {} versions served, {} list_changed pushes",
            calls.load(Ordering::Relaxed),
            valid.len(),
            pushes.load(Ordering::Relaxed)
        );
    });
}

/// Writes a gateway folder `root/folder` named `name` against `base_url`.
fn gateway_folder(root: &Path, folder: &str, text: &str) {
    let d = root.join(folder);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        path("gateways/petstore/openapi.yaml"),
        d.join("openapi.yaml"),
    )
    .unwrap();
    // Write the manifest last and by rename, so the folder is never seen half-made.
    let tmp = d.join(".gateway.yaml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, d.join("gateway.yaml")).unwrap();
}

async fn until_ready(origin: &str, what: &str, pred: impl Fn(&str) -> bool) {
    let start = Instant::now();
    loop {
        let body = get_text(&format!("{origin}/readyz")).await;
        if pred(&body) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}; /readyz says:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_folder_of_gateways_follows_folders_added_changed_and_removed() {
    let rt = runtime();
    rt.block_on(async {
        let (up_a, up_b) = (upstream::start().await, upstream::start().await);
        let root = tempfile::tempdir().unwrap();
        gateway_folder(
            root.path(),
            "a",
            &manifest("alpha", &up_a.url(), "v1", true),
        );
        gateway_folder(
            root.path(),
            "b",
            &manifest("beta", &up_b.url(), "v1", false),
        );
        // A broken folder is not served and does not stop the others.
        gateway_folder(
            root.path(),
            "c",
            &broken_manifest(&up_a.url(), "BAD").replace("petstore", "gamma"),
        );
        let gw = serve(root.path(), &[], &[]);
        let origin = gw
            .url
            .split("/alpha/")
            .next()
            .unwrap()
            .split("/beta/")
            .next()
            .unwrap()
            .to_string();
        let alpha = client_2025(&format!("{origin}/alpha/mcp")).await;
        let beta = client_2025(&format!("{origin}/beta/mcp")).await;
        assert_eq!(
            names(&list(&alpha).await),
            ["inventory", "get_pet_v1", "find_pets"]
        );
        assert_eq!(names(&list(&beta).await), ["inventory", "get_pet_v1"]);
        // Each gateway calls its own upstream.
        beta.call_tool(CallToolRequestParams::new("inventory"))
            .await
            .unwrap();
        assert!(up_a.requests().is_empty() && up_b.requests().len() == 1);
        let missing = reqwest::Client::new()
            .post(format!("{origin}/gamma/mcp"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        // Added folder → new endpoint.
        gateway_folder(
            root.path(),
            "d",
            &manifest("delta", &up_a.url(), "v1", true),
        );
        until_ready(&origin, "delta is added", |b| b.contains("ready: delta")).await;
        let delta = client_2025(&format!("{origin}/delta/mcp")).await;
        assert_eq!(names(&list(&delta).await).len(), 3);

        // Changed folder → only that gateway reloads.
        std::fs::write(
            root.path().join("a/gateway.yaml"),
            manifest("alpha", &up_a.url(), "v2", true),
        )
        .unwrap();
        until(&alpha, &gw, "alpha reloads", |t| {
            names(t).contains(&"get_pet_v2")
        })
        .await;
        assert_eq!(
            metric(&origin, "mcp_gateway_config_generation{gateway=\"delta\"}").await,
            1
        );
        assert_eq!(
            metric(&origin, "mcp_gateway_config_generation{gateway=\"beta\"}").await,
            1
        );

        // Removed folder → endpoint gone, the others untouched.
        std::fs::remove_dir_all(root.path().join("b")).unwrap();
        until_ready(&origin, "beta is removed", |b| !b.contains("ready: beta")).await;
        let gone = reqwest::Client::new()
            .post(format!("{origin}/beta/mcp"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 404);
        assert_eq!(names(&list(&delta).await).len(), 3);

        // The broken folder, once fixed, is served.
        std::fs::write(
            root.path().join("c/gateway.yaml"),
            manifest("gamma", &up_a.url(), "v1", false),
        )
        .unwrap();
        until_ready(&origin, "gamma is added once fixed", |b| {
            b.contains("ready: gamma")
        })
        .await;
    });
}

#[test]
fn a_folder_gateway_publishes_its_protected_resource_metadata_at_the_root() {
    // RFC 9728 puts the document at the root with the resource's path inserted, so a gateway
    // served at /alpha/mcp is discovered at /.well-known/oauth-protected-resource/alpha/mcp.
    let rt = runtime();
    rt.block_on(async {
        let root = tempfile::tempdir().unwrap();
        let secured = manifest("alpha", "http://127.0.0.1:9", "v1", false).replace(
            "tools:\n",
            "auth:\n  resource: https://mcp.example.com/alpha/mcp\n  oauth:\n    issuer: https://login.example.com\ntools:\n",
        );
        gateway_folder(root.path(), "a", &secured);
        let gw = serve(root.path(), &[], &[]);
        let origin = gw.url.split("/alpha/").next().unwrap().to_string();
        let doc: serde_json::Value = reqwest::get(format!(
            "{origin}/.well-known/oauth-protected-resource/alpha/mcp"
        ))
        .await
        .unwrap()
        .json()
        .await
        .expect("the metadata document is JSON");
        assert_eq!(doc["resource"], "https://mcp.example.com/alpha/mcp");
        assert_eq!(doc["authorization_servers"], json!(["https://login.example.com"]));
        let refused = reqwest::Client::new()
            .post(format!("{origin}/alpha/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert!(
            challenge.contains("resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/alpha/mcp\""),
            "{challenge}"
        );
    });
}
