//! The deployment files: the Dockerfile linted with hadolint, the Kubernetes manifests validated
//! against the Kubernetes schemas (kubernetes-validate), and the Deployment's own command run
//! against its own ConfigMap. The linters are Python packages that `tests/setup.sh` installs into
//! `tests/.venv`; a test skips, saying so, only when its tool is missing.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::common::gateway::{client_2026, serve_at};
use crate::common::{path, runtime, upstream};

/// A linter from `tests/.venv` (where `tests/setup.sh` puts it), else from `PATH`.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = path("tests/.venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    if Command::new(name).arg("--version").output().is_ok() {
        return Some(PathBuf::from(name));
    }
    eprintln!("SKIPPED: `{name}` is not installed; `tests/setup.sh` installs it into tests/.venv");
    None
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(path("deploy/kubernetes"))
        .expect("deploy/kubernetes")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let Some(hadolint) = tool("hadolint") else {
        return;
    };
    let out = Command::new(hadolint)
        .arg(path("Dockerfile"))
        .output()
        .expect("hadolint runs");
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let dockerfile = std::fs::read_to_string(path("Dockerfile")).unwrap();
    // The health check runs the binary's own subcommand (the runtime image has no curl), and
    // the image runs as a numeric non-root user.
    assert!(
        dockerfile.contains(r#"CMD ["/usr/local/bin/mcp-gateway", "health"]"#),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("\nUSER 65532:65532\n"), "{dockerfile}");
}

#[test]
fn the_kubernetes_manifests_are_valid_for_kubernetes() {
    let Some(validate) = tool("kubernetes-validate") else {
        return;
    };
    let files = manifests();
    let kinds: Vec<String> = files
        .iter()
        .map(|f| {
            let v: Value = yaml_serde::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            v["kind"].as_str().unwrap_or("?").to_string()
        })
        .collect();
    for kind in [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let out = Command::new(&validate)
        .arg("--strict")
        .args(&files)
        .output()
        .expect("kubernetes-validate runs");
    assert!(
        out.status.success(),
        "kubernetes-validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator does reject a misspelt field (so the pass above means something).
    let dir = tempfile::tempdir().unwrap();
    let typo = std::fs::read_to_string(path("deploy/kubernetes/deployment.yaml"))
        .unwrap()
        .replacen("periodSeconds:", "periodSecond:", 1);
    let bad = crate::common::write(dir.path(), "deployment.yaml", &typo);
    let out = Command::new(&validate)
        .args(["--strict", "--quiet"])
        .arg(&bad)
        .output()
        .expect("kubernetes-validate runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("'periodSecond' was unexpected"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A duration flag's value in seconds (`5s` → 5).
fn seconds(args: &[&str], flag: &str) -> u64 {
    let i = args
        .iter()
        .position(|a| *a == flag)
        .unwrap_or_else(|| panic!("the Deployment passes {flag}: {args:?}"));
    humantime::parse_duration(args[i + 1])
        .unwrap_or_else(|e| panic!("{flag} {}: {e}", args[i + 1]))
        .as_secs()
}

#[test]
fn the_deployment_serves_its_configmap_with_the_probes_and_timings_it_declares() {
    let deployment = yaml("deploy/kubernetes/deployment.yaml");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let args: Vec<&str> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string args"))
        .collect();
    // The preStop sleep matches the shutdown grace, and the pod's grace period covers the
    // preStop, the grace and the drain.
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .expect("a preStop sleep");
    let grace = seconds(&args, "--shutdown-grace");
    let drain = seconds(&args, "--drain-timeout");
    assert_eq!(pre_stop, grace);
    let termination = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > pre_stop + grace + drain,
        "terminationGracePeriodSeconds {termination} < {pre_stop} + {grace} + {drain}"
    );
    // The PDB and HPA select this Deployment.
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(
        &yaml("deploy/kubernetes/pdb.yaml")["spec"]["selector"]["matchLabels"],
        labels
    );
    assert_eq!(
        yaml("deploy/kubernetes/hpa.yaml")["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );

    // The ConfigMap is the petstore example, file for file.
    let config = yaml("deploy/kubernetes/configmap.yaml");
    let data = config["data"].as_object().expect("ConfigMap data");
    let mut example: Vec<String> = std::fs::read_dir(path("gateways/petstore"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    example.sort();
    let mut keys: Vec<String> = data.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, example, "the ConfigMap holds gateways/petstore/");
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in data {
        let on_disk = std::fs::read_to_string(path("gateways/petstore").join(name)).unwrap();
        assert_eq!(
            text.as_str(),
            Some(on_disk.as_str()),
            "{name} differs from the example"
        );
        crate::common::write(dir.path(), name, text.as_str().unwrap());
    }

    // Run the container's command on the ConfigMap's files, as the pod would: the mount path
    // becomes the temp folder, the listen address a loopback port, and the log format text
    // (the test reads the URL from the log).
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert_eq!(args[0], "serve");
    let manifest = PathBuf::from(args[1].replace(mount, &dir.path().display().to_string()));
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 2;
    while i < args.len() {
        match args[i] {
            "--listen" => i += 2,
            "--log-format" => {
                rest.extend(["--log-format", "text"]);
                i += 2;
            }
            a => {
                rest.push(a);
                i += 1;
            }
        }
    }
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let mut env: Vec<(String, String)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (name, value) in &mut env {
        if name == "PETSTORE_BASE_URL" {
            *value = up.url();
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let gw = serve_at(&manifest, "127.0.0.1:0", &rest, &env);
    rt.block_on(async {
        let ready = reqwest::get(format!("{}/readyz", gw.origin()))
            .await
            .expect("readyz answers");
        assert_eq!(ready.status(), 200);
        let client = client_2026(&gw.url).await;
        let r = client
            .call_tool(
                CallToolRequestParams::new("get_pet")
                    .with_arguments(json!({"pet_id": 3}).as_object().cloned().unwrap()),
            )
            .await
            .expect("the call answers");
        assert_ne!(r.is_error, Some(true), "{r:?}");
        tokio::time::timeout(Duration::from_secs(5), client.cancel())
            .await
            .ok();
    });
    assert_eq!(up.last().uri, "/pets/3");
}
