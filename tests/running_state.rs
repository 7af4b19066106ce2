//! The running parts of a served gateway (the upstream's client-credentials token, the issuer's
//! keys) survive a reload that does not change the settings they depend on, and are rebuilt by
//! one that does: counted at the authorization server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::oauth::{Setup, call, jwt_payload, post};
use crate::common::runtime;

const GENERATION: &str = "mcp_gateway_config_generation{gateway=\"secured\"}";

async fn generation(origin: &str) -> u64 {
    let body = reqwest::get(format!("{origin}/metrics"))
        .await
        .expect("the gateway answers")
        .text()
        .await
        .expect("text body");
    body.lines()
        .find(|l| l.starts_with(GENERATION))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{GENERATION}` in /metrics:\n{body}"))
}

/// Rewrites the served manifest with `edit` and waits until the gateway has swapped it in.
fn reload(rt: &tokio::runtime::Runtime, s: &Setup, edit: impl Fn(&str) -> String) {
    let origin = s.gw.origin();
    let before = rt.block_on(generation(&origin));
    let path = s.manifest();
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changes the manifest");
    std::fs::write(&path, edited).unwrap();
    let start = Instant::now();
    while rt.block_on(generation(&origin)) == before {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the edit was never swapped in"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(token requests of the gateway's own client, JWKS fetches, discovery fetches)`.
fn counts(s: &mut Setup) -> (usize, u64, u64) {
    let stats = s.issuer.stats();
    let tokens = stats["token_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["client_id"] == "gateway")
        .count();
    (
        tokens,
        stats["jwks"].as_u64().unwrap(),
        stats["discovery"].as_u64().unwrap(),
    )
}

fn get_pet(rt: &tokio::runtime::Runtime, s: &Setup, caller: &str, id: u64) {
    let (status, _, body) = rt.block_on(post(
        &s.gw.url,
        Some(caller),
        &call("get_pet", json!({"petId": id})),
    ));
    assert_eq!(
        (status, &body["result"]["isError"]),
        (200, &json!(false)),
        "{body}"
    );
}

/// The audience of the gateway's token on the upstream's last request.
fn last_upstream_audience(s: &Setup) -> Value {
    let seen = s.up.requests();
    let auth = seen.last().unwrap().headers["authorization"]
        .to_str()
        .unwrap()
        .to_string();
    jwt_payload(auth.strip_prefix("Bearer ").unwrap())["aud"].clone()
}

#[test]
fn a_reload_that_edits_a_description_keeps_the_upstream_token_and_the_issuers_keys() {
    let rt = runtime();
    let mut s = Setup::start(&rt);
    let alice = s
        .issuer
        .token(json!({"scope": "pets:read", "sub": "alice"}));
    get_pet(&rt, &s, &alice, 1);
    let (tokens, jwks, discovery) = counts(&mut s);
    assert_eq!((tokens, jwks), (1, 1), "the first call fetches both");

    // Only a description changes: every running part is handed on.
    reload(&rt, &s, |m| {
        m.replace(
            "    name: get_pet\n",
            "    name: get_pet\n    description: Fetch one pet by its id (edited).\n",
        )
    });
    let (_, _, body) = rt.block_on(post(&s.gw.url, Some(&alice), &crate::common::oauth::list()));
    assert!(
        body.to_string().contains("(edited)"),
        "the edit is served: {body}"
    );
    get_pet(&rt, &s, &alice, 2);
    // A token the gateway has never seen needs the issuer's keys: still the cached ones.
    let bob = s.issuer.token(json!({"scope": "pets:read", "sub": "bob"}));
    get_pet(&rt, &s, &bob, 3);
    assert_eq!(
        counts(&mut s),
        (tokens, jwks, discovery),
        "a description edit costs no token request, JWKS or discovery fetch"
    );
    assert_eq!(last_upstream_audience(&s), "http://upstream.test");

    // The client-credentials settings change: a new token is fetched, with the new settings;
    // the inbound keys (whose settings did not change) are still kept.
    reload(&rt, &s, |m| {
        m.replace(
            "audience: http://upstream.test",
            "audience: http://upstream-v2.test",
        )
    });
    get_pet(&rt, &s, &alice, 4);
    let (tokens_after, jwks_after, discovery_after) = counts(&mut s);
    assert_eq!(
        (tokens_after, jwks_after, discovery_after),
        (tokens + 1, jwks, discovery),
        "new client-credentials settings fetch one new token and nothing else"
    );
    let last = s.issuer.stats()["token_requests"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["audience"], "http://upstream-v2.test", "{last}");
    assert_eq!(last_upstream_audience(&s), "http://upstream-v2.test");
}
