//! `mcp-gateway health [URL]`: asks a running gateway's health endpoint and exits 0 when it
//! answers 2xx. For container health checks: the runtime image has no shell or curl, only this
//! binary.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `health`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The URL to ask. Default: `/readyz` of the address `serve` listens on (from
    /// `MCP_GATEWAY_LISTEN`, like `serve --listen`), asked over loopback.
    url: Option<String>,
    /// The address `serve` listens on, to build the default URL.
    #[arg(long, env = "MCP_GATEWAY_LISTEN", default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Ask `/healthz` (is the process up) instead of `/readyz` (is it serving a gateway).
    #[arg(long, conflicts_with = "url")]
    live: bool,
    /// How long to wait for the answer.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

/// Exit code when the endpoint answers something other than 2xx, or nothing.
const EXIT_UNHEALTHY: u8 = 1;

pub(crate) fn run(args: Args) -> ExitCode {
    let url = args.url.clone().unwrap_or_else(|| {
        let path = if args.live { "healthz" } else { "readyz" };
        format!("http://{}/{path}", loopback(args.listen))
    });
    match super::block_on(ask(&url, args.timeout)) {
        Ok(Ok(body)) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::from(EXIT_UNHEALTHY)
        }
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}

/// `listen` as an address this machine can connect to: a wildcard bind is reached on loopback.
fn loopback(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn ask(url: &str, timeout: Duration) -> Result<String, String> {
    let client = crate::upstream::client_builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot create an HTTP client: {e}"))?;
    let resp = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {}", humantime::format_duration(timeout))
        } else if e.is_connect() {
            "nothing is listening there (is the gateway running, on that port?)".to_string()
        } else {
            e.to_string()
        }
    })?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{status}: {}", body.trim_end()))
    }
}

#[cfg(test)]
mod tests {
    use super::loopback;

    #[test]
    fn a_wildcard_listen_address_is_asked_over_loopback() {
        // The container image listens on 0.0.0.0:8000; its HEALTHCHECK asks 127.0.0.1:8000.
        let addr = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(loopback(addr("0.0.0.0:8000")), addr("127.0.0.1:8000"));
        assert_eq!(loopback(addr("[::]:9000")), addr("[::1]:9000"));
        assert_eq!(loopback(addr("10.1.2.3:8000")), addr("10.1.2.3:8000"));
    }
}
