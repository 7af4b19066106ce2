//! TLS setup shared by every outbound client (spec fetches and upstream calls).

/// Installs rustls' `ring` provider as the process default (reqwest is built without a provider
/// so no C toolchain is needed for aws-lc). Idempotent.
pub fn install_default_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An error and its sources on one line (reqwest's top-level message hides the cause, such as
/// "connection refused" or a certificate problem).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = s.source();
    }
    out
}
