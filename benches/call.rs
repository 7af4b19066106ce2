//! tools/call under load: 64 concurrent keep-alive connections send `tools/call get_pet` through
//! the gateway (stateless JSON mode, release build) to a fast local upstream, then the same load
//! goes straight at the upstream, in one run. Reports throughput, p50/p99 latency, the
//! gateway's peak RSS and, the figure that matters on a shared 2-core machine, the gateway's
//! CPU time per call (user + system time of its process over the run / calls).
//!
//! A third run sends the same calls to a gateway that verifies a JWT access token on every
//! request (`auth:` against a real OAuth server, `tests/node/oauth.mjs`, when the Node test
//! packages are installed), to price the resource-server check in the same run.
//!
//! `cargo bench --bench call` (env: BENCH_SECONDS, default 10; BENCH_CONNECTIONS, default 64).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;

const PET: &str = r#"{"id":7,"name":"Rex","tag":null,"status":"available"}"#;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Clock ticks of user + system CPU of `pid` so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    utime + stime
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn ticks_per_second() -> f64 {
    // Linux reports CPU times in USER_HZ, which is 100 on every mainstream configuration.
    100.0
}

struct Outcome {
    calls: u64,
    errors: u64,
    seconds: f64,
    p50_us: u64,
    p99_us: u64,
}

/// Builds request number `id` on a client.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Sends requests from `connections` clients for `seconds`, after a warm-up.
async fn load(connections: u64, seconds: u64, make: MakeRequest) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let ids = Arc::new(AtomicU64::new(1));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::with_capacity(1 << 20)));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .unwrap();
        let (stop, measuring, calls, errors, ids, latencies, make) = (
            stop.clone(),
            measuring.clone(),
            calls.clone(),
            errors.clone(),
            ids.clone(),
            latencies.clone(),
            make.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::with_capacity(1 << 14);
            while !stop.load(Ordering::Relaxed) {
                // Every request gets its own JSON-RPC id (duplicate ids under load are a trap).
                let id = ids.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let ok = match make(&client, id).send().await {
                    Ok(r) => {
                        r.status().is_success()
                            && r.bytes().await.map(|b| !b.is_empty()).unwrap_or(false)
                    }
                    Err(_) => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        calls.fetch_add(1, Ordering::Relaxed);
                        local.push(t.elapsed().as_micros() as u32);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies.lock().unwrap().extend(local);
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // warm-up: connections open, pools fill
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as u64
    };
    Outcome {
        calls: calls.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        seconds: elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

/// A gateway process serving `manifest`, with its pid and MCP URL.
struct Served {
    child: std::process::Child,
    pid: u32,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(manifest: &std::path::Path, upstream: std::net::SocketAddr) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-gateway"))
        .args([
            "serve",
            manifest.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("PETSTORE_BASE_URL", format!("http://{upstream}"))
        // BENCH_LOG=info prices the per-call log line too (written to a pipe the bench drains).
        .env(
            "MCP_GATEWAY_LOG",
            std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn,mcp_gateway::cli=info".into()),
        )
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway starts");
    let pid = child.id();
    let mut url = String::new();
    let mut seen = Vec::new();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        seen.push(line.clone());
        if let Some(i) = line.find("url=") {
            url = line[i + 4..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            break;
        }
    }
    assert!(
        !url.is_empty(),
        "the gateway did not report its URL:\n{}",
        seen.join("\n")
    );
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served { child, pid, url }
}

/// tools/call get_pet through `url`, with `token` as a bearer token if given.
fn call_request(url: String, token: Option<String>) -> MakeRequest {
    Arc::new(move |c, id| {
        let mut r = c
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(t) = &token {
            r = r.bearer_auth(t);
        }
        r.body(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"get_pet","arguments":{{"pet_id":7}}}}}}"#
        ))
    })
}

/// Runs the load through `g` and returns the outcome, its CPU per call (µs) and peak RSS (KiB).
fn through(
    rt: &tokio::runtime::Runtime,
    g: &Served,
    make: MakeRequest,
    connections: u64,
    seconds: u64,
) -> (Outcome, f64, u64) {
    let cpu_before = cpu_ticks(g.pid);
    let o = rt.block_on(load(connections, seconds, make));
    let cpu_after = cpu_ticks(g.pid);
    // CPU over warm-up + run + drain, divided by measured calls only: slightly pessimistic.
    let warm_share = seconds as f64 / (seconds as f64 + 2.0);
    let cpu_us = (cpu_after - cpu_before) as f64 / ticks_per_second() * 1e6 * warm_share
        / o.calls.max(1) as f64;
    (o, cpu_us, peak_rss_kib(g.pid))
}

/// A real authorization server (tests/node/oauth.mjs), a token it issued for `audience`, and
/// the process to stop when done; `None` when the Node test packages are not installed.
fn issuer(audience: &str) -> Option<(std::process::Child, String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node = root.join("tests/node/node_modules/node22/bin/node");
    if !root
        .join("tests/node/node_modules/oauth2-mock-server")
        .is_dir()
    {
        return None;
    }
    let node = if node.is_file() { node } else { "node".into() };
    let mut child = Command::new(node)
        .arg(root.join("tests/node/oauth.mjs"))
        .arg(audience)
        .env("GATEWAY_CLIENT_SECRET", "bench")
        .env("SDK_CLIENT_SECRET", "bench")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut stdout = BufReader::new(child.stdout.take()?);
    let mut line = String::new();
    stdout.read_line(&mut line).ok()?;
    let hello: serde_json::Value = serde_json::from_str(&line).ok()?;
    let url = hello["issuer"].as_str()?.to_string();
    use std::io::Write as _;
    writeln!(
        stdin,
        r#"{{"op": "token", "claims": {{"scope": "pets:read"}}}}"#
    )
    .ok()?;
    line.clear();
    stdout.read_line(&mut line).ok()?;
    let answer: serde_json::Value = serde_json::from_str(&line).ok()?;
    let token = answer["token"].as_str()?.to_string();
    // The token command is answered; keep the process (and its stdin) alive for JWKS.
    std::mem::forget(stdin);
    Some((child, url, token))
}

fn main() {
    mcp_gateway::tls::install_default_provider();
    let seconds = env_num("BENCH_SECONDS", 10);
    let connections = env_num("BENCH_CONNECTIONS", 64);

    // The upstream: its own single-threaded runtime on its own OS thread.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new().route(
                "/pets/{id}",
                get(|| async { ([("content-type", "application/json")], PET) }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    let upstream = rx.recv().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let plain = start(&root.join("gateways/petstore/gateway.yaml"), upstream);
    let (g, cpu_us, rss) = through(
        &rt,
        &plain,
        call_request(plain.url.clone(), None),
        connections,
        seconds,
    );
    drop(plain);
    let direct_url = format!("http://{upstream}/pets/7");
    let direct: MakeRequest = Arc::new(move |c, _| c.get(&direct_url));
    let d = rt.block_on(load(connections, seconds, direct));

    let g_rps = g.calls as f64 / g.seconds;
    let d_rps = d.calls as f64 / d.seconds;
    println!("tools/call get_pet, {connections} connections, {seconds} s each, one run:");
    println!(
        "  through the gateway: {g_rps:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  errors {}",
        g.p50_us, g.p99_us, g.errors
    );
    println!(
        "  straight upstream:   {d_rps:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  errors {}",
        d.p50_us, d.p99_us, d.errors
    );
    println!(
        "  gateway CPU per call: {cpu_us:.1} µs   peak RSS {:.1} MiB",
        rss as f64 / 1024.0
    );
    println!(
        "  ratios: throughput {:.2}× of direct, p50 {:.2}× of direct",
        g_rps / d_rps.max(1.0),
        g.p50_us as f64 / d.p50_us.max(1) as f64
    );

    // The same calls with a JWT verified on each (RS256 against the issuer's JWKS).
    let audience = "http://127.0.0.1/bench/mcp";
    let Some((mut as_child, issuer_url, token)) = issuer(audience) else {
        println!("  (JWT run skipped: run tests/setup.sh for the OAuth test server)");
        return;
    };
    // The petstore folder as it is (its resources name files next to the manifest), plus `auth:`.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root.join("gateways/petstore")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let petstore = std::fs::read_to_string(dir.path().join("gateway.yaml")).unwrap();
    let secured = petstore.replace(
        "tools:\n",
        &format!("auth:\n  resource: {audience}\n  oauth:\n    issuer: {issuer_url}\ntools:\n"),
    );
    std::fs::write(dir.path().join("gateway.yaml"), secured).unwrap();
    let secured = start(&dir.path().join("gateway.yaml"), upstream);
    let (a, a_cpu, _) = through(
        &rt,
        &secured,
        call_request(secured.url.clone(), Some(token)),
        connections,
        seconds,
    );
    drop(secured);
    let _ = as_child.kill();
    let _ = as_child.wait();
    let a_rps = a.calls as f64 / a.seconds;
    println!(
        "  with a JWT checked per call: {a_rps:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  errors {}",
        a.p50_us, a.p99_us, a.errors
    );
    println!(
        "  gateway CPU per call with the JWT check: {a_cpu:.1} µs ({:+.1} µs, {:.2}× the unauthenticated gateway)",
        a_cpu - cpu_us,
        a_cpu / cpu_us.max(0.001)
    );
}
