//! Scale-out: three gateway replicas behind a real load balancer (HAProxy from the
//! distribution, running `deploy/haproxy/mcp-gateway.cfg`), with rmcp clients of both eras
//! calling through it.
//! A rolling restart (SIGTERM to one replica at a time while the load runs, then a new replica
//! in its place) must lose no call; `--sessions` needs affinity, and the test shows what breaks
//! without it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use serde_json::json;

use crate::common::gateway::{Client, Gateway, client_2025, client_2026, serve_at};
use crate::common::upstream::{self, Upstream};
use crate::common::{path, runtime};

/// How long a stopping replica keeps accepting (the default is 5 s; short here to keep the
/// test short; the balancer's behaviour does not depend on the length).
const GRACE: &[&str] = &["--shutdown-grace", "1s"];

/// The HAProxy binary, or `None` (with the reason printed) when it is not installed.
fn haproxy_binary() -> Option<PathBuf> {
    for candidate in [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ] {
        if Path::new(candidate).is_file() {
            return Some(PathBuf::from(candidate));
        }
    }
    if Command::new("haproxy").arg("-v").output().is_ok() {
        return Some(PathBuf::from("haproxy"));
    }
    eprintln!(
        "SKIPPED: HAProxy is not installed; `tests/setup.sh` installs it (apt-get install haproxy)"
    );
    None
}

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// HAProxy running the shipped configuration, with its `server` lines pointed at `replicas`.
struct Balancer {
    child: Child,
    _dir: tempfile::TempDir,
    /// Every line it logged (one per request, see `log-format`, and server state changes).
    log: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT`.
    origin: String,
}

impl Balancer {
    fn start(binary: &Path, replicas: &[u16], affinity: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cfg = std::fs::read_to_string(path("deploy/haproxy/mcp-gateway.cfg"))
            .expect("deploy/haproxy/mcp-gateway.cfg");
        let mut edit = |from: &str, to: &str| {
            assert!(cfg.contains(from), "the shipped config has `{from}`");
            cfg = cfg.replace(from, to);
        };
        for (i, p) in replicas.iter().enumerate() {
            let n = i + 1;
            edit(
                &format!("gateway-{n}:8000 check"),
                &format!("127.0.0.1:{p} check"),
            );
        }
        edit("bind :8080", &format!("bind 127.0.0.1:{port}"));
        // The test's replicas stop after a 1 s grace instead of 5 s, so the check runs more
        // often to keep the same margin.
        edit("inter 1s", "inter 200ms");
        if affinity {
            for line in [
                "stick-table type string",
                "stick on req.hdr",
                "stick store-response",
            ] {
                edit(&format!("# {line}"), line);
            }
        }
        let file = dir.path().join("haproxy.cfg");
        std::fs::write(&file, cfg).expect("config written");
        let mut child = Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("haproxy starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut lb = Self {
            child,
            _dir: dir,
            log,
            origin: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = lb.child.try_wait().expect("haproxy can be waited on") {
                panic!("haproxy exited ({status}): {}", lb.messages());
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "haproxy did not listen: {}",
                lb.messages()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        lb
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.origin)
    }

    /// Everything it logged that is not a request line (state changes, warnings).
    fn messages(&self) -> String {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| request_line(l).is_none())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// [`Self::requests`] once at least `n` are logged: HAProxy writes a request's line after
    /// the response has gone out, so the client may have its answer before the line exists.
    /// Gives up after 10 s and returns what there is.
    fn requests_once(&self, n: usize) -> Vec<(u16, String, String)> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = self.requests();
            if seen.len() >= n || Instant::now() > until {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One `(status, replica, retries)` per request it answered, in order.
    fn requests(&self) -> Vec<(u16, String, String)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| request_line(l))
            .collect()
    }
}

/// A request line of the shipped `log-format "%ST %s %rc"`.
fn request_line(line: &str) -> Option<(u16, String, String)> {
    let mut words = line.split_whitespace();
    let status = words.next()?.parse().ok()?;
    let server = words.next()?.to_string();
    let retries = words.next()?.to_string();
    words.next().is_none().then_some((status, server, retries))
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A petstore replica on `port`.
fn replica(up: &Upstream, port: u16, args: &[&str]) -> Gateway {
    serve_at(
        &path("gateways/petstore/gateway.yaml"),
        &format!("127.0.0.1:{port}"),
        args,
        &[("PETSTORE_BASE_URL", &up.url())],
    )
}

/// Calls `get_pet` in a loop until `stop`, checking each answer is the pet asked for.
fn caller(
    client: Arc<Client>,
    first_id: u64,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failures: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut id = first_id;
        while !stop.load(Ordering::Relaxed) {
            id += 1;
            let args = json!({"pet_id": id});
            let r = client
                .call_tool(
                    CallToolRequestParams::new("get_pet")
                        .with_arguments(args.as_object().cloned().unwrap_or_default()),
                )
                .await;
            match r {
                Ok(r)
                    if r.is_error != Some(true)
                        && r.structured_content.as_ref().map(|s| s["id"].clone())
                            == Some(json!(id)) =>
                {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                other => failures
                    .lock()
                    .unwrap()
                    .push(format!("pet {id}: {other:?}")),
            }
        }
    })
}

/// Blocks until `counter` has grown by `by` (the load is flowing), failing after 30 s.
fn until_grown(counter: &AtomicU64, by: u64, what: &str) {
    let from = counter.load(Ordering::Relaxed);
    let start = Instant::now();
    while counter.load(Ordering::Relaxed) < from + by {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what}: calls stopped flowing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Blocks until the balancer, past request `from`, has had a call answered by replica `slot`
/// (named `gateway-{slot + 1}` in the config), failing after 30 s.
fn until_served(lb: &Balancer, from: usize, slot: usize) {
    let name = format!("gateway-{}", slot + 1);
    let start = Instant::now();
    while !lb
        .requests()
        .iter()
        .skip(from)
        .any(|(status, server, _)| *status == 200 && *server == name)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name} got no call after its restart\n{}",
            lb.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_rolling_restart_behind_haproxy_loses_no_call_of_either_era() {
    let Some(binary) = haproxy_binary() else {
        return;
    };
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut replicas: Vec<Gateway> = ports.iter().map(|&p| replica(&up, p, GRACE)).collect();
    let lb = Balancer::start(&binary, &ports, false);

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..4u64 {
        // Two clients of each era; every one connects through the balancer, so its initialize
        // or discover and its calls land on different replicas.
        let client = rt.block_on(async {
            if i % 2 == 0 {
                client_2025(&lb.url()).await
            } else {
                client_2026(&lb.url()).await
            }
        });
        let _guard = rt.enter();
        tasks.push(caller(
            Arc::new(client),
            // Pet ids past the test upstream's special ones (401, 404, 500, 777…).
            1_000 + i * 1_000_000,
            stop.clone(),
            ok.clone(),
            failures.clone(),
        ));
    }
    until_grown(&ok, 100, "before the restart");
    for slot in 0..3 {
        until_served(&lb, 0, slot);
    }

    for (slot, &port) in ports.iter().enumerate() {
        let status = replicas[slot].terminate(Duration::from_secs(40));
        assert!(status.success(), "replica {slot} exited with {status}");
        let restarted = lb.requests().len();
        replicas[slot] = replica(&up, port, GRACE);
        // The next replica goes only once the new one serves calls (as a Deployment's rollout
        // waits for the new pod to be ready).
        until_served(&lb, restarted, slot);
    }
    until_grown(&ok, 100, "after the rolling restart");
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tasks {
            t.await.expect("caller task");
        }
    });

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} calls failed during the rolling restart, first: {:#?}\nhaproxy: {}",
        failures.len(),
        failures.len() as u64 + ok.load(Ordering::Relaxed),
        &failures[..failures.len().min(5)],
        lb.messages()
    );
    let requests = lb.requests();
    let bad: Vec<_> = requests.iter().filter(|(s, _, _)| *s >= 400).collect();
    assert!(bad.is_empty(), "haproxy answered {bad:?}");
    eprintln!(
        "{} calls, {} requests through haproxy; it logged:\n{}",
        ok.load(Ordering::Relaxed),
        requests.len(),
        lb.messages()
    );
}

/// `serve --sessions` behind the balancer: a 2025 session lives in the replica that created
/// it, so without affinity the next request of the session reaches a replica that never heard
/// of it and gets 404; with affinity on `Mcp-Session-Id` every request of the session reaches
/// its replica.
#[test]
fn sessions_need_affinity_behind_the_balancer() {
    let Some(binary) = haproxy_binary() else {
        return;
    };
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _replicas: Vec<Gateway> = ports
        .iter()
        .map(|&p| replica(&up, p, &["--sessions"]))
        .collect();

    // Round robin: the initialize lands on one replica, the next three requests of its
    // session on each replica in turn, and the two that never saw it answer 404.
    let round_robin = Balancer::start(&binary, &ports, false);
    let statuses = rt.block_on(async {
        let http = reqwest::Client::new();
        let init = http
            .post(round_robin.url())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "scale-out-test", "version": "1"}}})
                .to_string(),
            )
            .send()
            .await
            .expect("initialize answers");
        assert_eq!(init.status(), 200);
        let session = init
            .headers()
            .get("mcp-session-id")
            .expect("a session id")
            .clone();
        let _ = init.bytes().await;
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let r = http
                .post(round_robin.url())
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-session-id", session.clone())
                .header("mcp-protocol-version", "2025-06-18")
                .body(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
                .send()
                .await
                .expect("the balancer answers");
            statuses.push(r.status().as_u16());
        }
        statuses.sort_unstable();
        statuses
    });
    assert_eq!(statuses, vec![202, 404, 404], "{}", round_robin.messages());

    // Affinity: a 2025 client with a session makes every call through the balancer, all on
    // the replica that created its session.
    let sticky = Balancer::start(&binary, &ports, true);
    rt.block_on(async {
        let client = client_2025(&sticky.url()).await;
        for id in 1_000..1_010 {
            let r = client
                .call_tool(
                    CallToolRequestParams::new("get_pet")
                        .with_arguments(json!({"pet_id": id}).as_object().cloned().unwrap()),
                )
                .await
                .expect("the call succeeds on the session's replica");
            assert_ne!(r.is_error, Some(true), "{r:?}");
        }
    });
    // initialize, notifications/initialized and ten calls.
    let requests = sticky.requests_once(12);
    assert!(requests.len() >= 12, "{requests:?}");
    let served: std::collections::BTreeSet<&str> = requests
        .iter()
        .map(|(_, server, _)| server.as_str())
        .collect();
    assert_eq!(
        served.len(),
        1,
        "one replica serves the session: {requests:?}"
    );
}
